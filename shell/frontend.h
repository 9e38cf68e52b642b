/* SPDX-License-Identifier: MIT */
/*
 * The front end's parts, which shell/main.c ties together: the command line
 * (shell/argv.c), the interactive loop (shell/repl.c) and the man page's
 * generated sections (shell/manpage.c). Running lines and files and opening
 * targets is the session (shell/session.c, declared in shell.h).
 */
#ifndef IOMMUSH_FRONTEND_H
#define IOMMUSH_FRONTEND_H

#include <stdbool.h>
#include <stddef.h>

#include "shell.h"

/* One -c, -f or -e, in command-line order. */
struct ish_action {
	char kind;		/* 'c' command, 'f' file, 'e' Lua chunk */
	const char *arg;
};

/* What the command line asks for, besides the settings it puts in the shell. */
struct ish_args {
	struct ish_action *actions;
	size_t nactions;
	const char *backend;	/* -b NAME, or NULL to detect */
	const char *spec;	/* TARGET (the demo's path with --demo), or NULL */
	int script_argc;	/* "iommush script.lua ARGS": the script's arguments */
	char **script_argv;
};

/*
 * Parses argv into sh (mode, write, yes, force, batch, -O params) and ret.
 * Returns -1 to go on, or the exit status to leave with at once (usage,
 * --help, --version, --man-section, errors, which it has reported). The
 * arrays it allocates stay valid until ish_args_deinit.
 */
int ish_args_parse(struct ish_shell *sh, int argc, char **argv, struct ish_args *ret);
void ish_args_deinit(struct ish_shell *sh, struct ish_args *args);

/* The interactive loop: history, completion, ~/.iommushrc, the pager. */
void ish_repl(struct ish_shell *sh);

/* Prints the man page section WHAT ("commands" or "backends"); returns the exit status. */
int ish_man_section(const char *what);

#endif
