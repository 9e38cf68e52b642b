/* SPDX-License-Identifier: MIT */
/*
 * The shell: one session (target, output mode, write mode) and commands from
 * plain-C tables. Each command group is one file exporting a table that ends
 * with { NULL }; the help text lives in the entry, so `help`, the man page
 * and the completion cannot drift apart (a test checks they agree).
 */
#ifndef IOMMUSH_SHELL_H
#define IOMMUSH_SHELL_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <iommush/error.h>
#include <iommush/target.h>

#include "json.h"

enum ish_output_mode {
	OUT_TEXT,
	OUT_JSON,
	OUT_JSONL,	/* JSON, but a listing is JSON Lines: one value per line per item */
};

struct ish_shell {
	struct ish_target *target;	/* NULL when no target is open */
	enum ish_output_mode mode;
	bool write;			/* --write / set write on */
	bool yes;			/* --yes: do not ask before writes */
	bool force;			/* --force: write to units the kernel's driver owns */
	bool batch;			/* no prompts, stop at the first error */
	bool interactive;		/* stdin and stdout are a terminal */
	bool color;			/* colour on stderr (a terminal, no NO_COLOR) */
	bool color_out;			/* colour on stdout (a terminal, no NO_COLOR) */
	FILE *pager_file;		/* the pager of the command running, or NULL */
	bool pager;			/* page long output on a terminal (set pager) */
	bool progress_shown;		/* a progress line is on stderr */
	uint64_t progress_last_ns;
	FILE *out;			/* stdout or the `output FILE` file */
	struct json_writer json;	/* writes to out in OUT_JSON mode */
	struct out_buf *stream;		/* the buffer of the listing running (sh_stream_begin), or NULL */
	const char *cmd_name;		/* the command running, for messages */
	const struct ish_command *cmd;	/* the command running, for its usage */
	struct ish_param *params;	/* -O settings, kept for `open` */
	size_t nparams;
	volatile sig_atomic_t interrupted;	/* set by SIGINT */
	bool quit;
	int exit_status;		/* of the last command */
};

enum {
	CMD_NEEDS_TARGET = 1u << 0,	/* fails cleanly when no target is open */
	CMD_WRITES_HW = 1u << 1,	/* needs write mode */
	/* The rest of the line, unsplit and with its quotes, is argv[1] (lua CHUNK). */
	CMD_RAW_ARGS = 1u << 2,
};

/* What an argument completes to, for the line editor. */
enum ish_complete {
	COMPLETE_NONE,
	COMPLETE_COMMAND,
	COMPLETE_REGISTER,
	COMPLETE_BDF,
	COMPLETE_UNIT,
	COMPLETE_FILE,
	COMPLETE_PARAM,
};

struct ish_command {
	const char *name;
	const char *alias;	/* another name, or NULL */
	const char *synopsis;	/* "translate BDF IOVA [--pasid N] [--write]" */
	const char *summary;	/* one line */
	const char *help;	/* paragraphs, wrapped at 76 columns, no trailing newline */
	/* Returns 0 on success, 1 on failure (after reporting it), 2 on usage error. */
	int (*fn)(struct ish_shell *sh, int argc, char **argv);
	unsigned flags;
	enum ish_complete complete;	/* for the first argument */
};

/* Command groups; each array ends with an entry whose name is NULL. */
extern const struct ish_command ish_cmds_core[];
extern const struct ish_command ish_cmds_regs[];	/* regs, dmar */
extern const struct ish_command ish_cmds_walk[];	/* devices, context, pasid, translate, mappings, who-maps */
extern const struct ish_command ish_cmds_irq[];	/* irte, iq, faults */
extern const struct ish_command ish_cmds_target[];	/* open, close, snapshot, invalidate, stop, cont */
extern const struct ish_command ish_cmds_write[];	/* invalidate, stop, cont */
extern const struct ish_command ish_cmds_pci[];	/* pci */
extern const struct ish_command ish_cmds_kernel[];	/* kernel */
extern const struct ish_command ish_cmds_lua[];	/* lua, script (only with Lua) */
/* The C plugins compiled in (plugins/meson.build generates it); ends with NULL. */
extern const struct ish_command *const ish_plugin_groups[];
/*
 * Commands registered by Lua plugins, or NULL: shell/cmd_lua.c, or
 * shell/nolua.c in a build without Lua (lua/lua_iommu.h has the contract).
 */
const struct ish_command *ish_lua_commands(void);

const struct ish_command *ish_command_find(const char *name, bool *ambiguous);
/* Every command in table order: pass NULL first, then the previous one. */
const struct ish_command *ish_command_next(const struct ish_command *prev);

/* --- the session (shell/session.c) --- */
/* Run one command line; returns its status (0, 1, 2). */
int ish_shell_run_line(struct ish_shell *sh, const char *line);
/* Run a command file ("-" = stdin) or a .lua script; returns 0 or the last failure. */
int ish_shell_run_file(struct ish_shell *sh, const char *path);
/* Open TARGET (closing the current one on success). */
struct ish_error *ish_shell_open(struct ish_shell *sh, const char *spec, const char *backend);
/* PATH names a Lua script (ends in .lua). */
bool sh_is_lua_file(const char *path);
/*
 * What the target's backend says about it (ish_target_describe): its
 * sentences, one line each after indent, or its counts on one line after
 * indent ("files 3, ptes 40"); with json, one member each of the object
 * being written to sh->json. Returns whether there was any.
 */
enum sh_describe { SH_DESCRIBE_TEXT, SH_DESCRIBE_COUNTS };
bool sh_describe(struct ish_shell *sh, enum sh_describe what, bool json, const char *indent);
/* Clears the progress line of the command that ran, if it showed one. */
void sh_end_progress(struct ish_shell *sh);
/*
 * The confirmation the library asks for before a write to a live host
 * (iommush/write.h; shell/cmd_write.c): --yes answers yes; otherwise a
 * terminal is asked on stderr/stdin, and without one the write is refused.
 */
struct ish_write_question;
struct ish_error *ish_shell_confirm(void *arg, const struct ish_write_question *q);
/* `set reg [UNIT] NAME VALUE` (shell/cmd_write.c). argv[0] is "reg". */
int ish_cmd_set_reg(struct ish_shell *sh, int argc, char **argv);
/*
 * Runs a Lua chunk or file (shell/cmd_lua.c); in a build without Lua
 * (shell/nolua.c) it reports that and returns 1.
 */
int ish_lua_run(struct ish_shell *sh, const char *chunk, const char *file, int argc,
		char **argv);

/* --- output (shell/out.c) --- */
/* Text output to sh->out. */
void sh_printf(struct ish_shell *sh, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "iommush: CMD: message" on stderr; returns 1. Destroys err. */
int sh_report(struct ish_shell *sh, struct ish_error *err);
/* "iommush: CMD: message" on stderr; returns 1. */
int sh_error(struct ish_shell *sh, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "usage: SYNOPSIS" on stderr; returns 2. */
int sh_usage(struct ish_shell *sh, const struct ish_command *cmd);
/* JSON output (--json or --jsonl). */
bool sh_json(const struct ish_shell *sh);
/* --jsonl / set json lines: listings are JSON Lines. */
bool sh_jsonl(const struct ish_shell *sh);
/*
 * A listing in JSON: one array (then a newline), or, in JSON Lines mode, one
 * line per value written between the two. Both write nothing in text mode.
 */
void sh_list_begin(struct ish_shell *sh);
void sh_list_end(struct ish_shell *sh);
/*
 * Streamed output for listings (shell/out.c). Between begin and end, text
 * (sh_printf, sh_flag, sh_color and out_buf_* on sh->stream) and JSON go to
 * the buffer b, normally on the caller's stack, and reach sh->out in large
 * writes. sh_stream_end flushes and returns the errno of the first failed
 * write (0 if none); the caller hands a non-zero one to sh_stream_failed.
 */
void sh_stream_begin(struct ish_shell *sh, struct out_buf *b);
int sh_stream_end(struct ish_shell *sh);
/* True once a write of the running listing failed: the walk should stop. */
static inline bool sh_stream_broken(const struct ish_shell *sh)
{
	return sh->stream && sh->stream->err;
}
/*
 * After a failed write (errnum): a closed pipe (`| head`, the pager quit)
 * ends the command quietly with status 0 and, without a prompt (-c, -f, a
 * script on stdin), the session too (nobody reads any more); any other
 * error (disk full) is reported and gives 1.
 */
int sh_stream_failed(struct ish_shell *sh, int errnum);
/* Sends everything written so far (streamed or not) to sh->out's file. */
void sh_flush(struct ish_shell *sh);
/* Whether sh_color writes colour sequences now (text mode on a colour terminal). */
bool sh_colors(const struct ish_shell *sh);
/* lspci-style flag: "Name+" or "Name-" ("+" in green on a colour terminal). */
void sh_flag(struct ish_shell *sh, const char *name, bool on);
/* Colours for results, only when sh->color_out and writing to the terminal. */
enum sh_color { SH_RESET, SH_GOOD, SH_BAD, SH_DIM };
void sh_color(struct ish_shell *sh, enum sh_color c);

/* --- argument parsing (shell/parse.c); each returns false on bad input --- */
bool parse_u64(const char *s, uint64_t *ret);	/* 0x.., decimal, K/M/G suffix */
/* "00:03.0", "0000:00:03.0", "3.0" (bus 0), or a 16-bit number; segment may be NULL. */
bool parse_bdf(const char *s, uint16_t *segment, uint16_t *bdf);
/* "LO-HI" (inclusive), "LO+SIZE", or "LO" (one page). */
bool parse_range(const char *s, uint64_t *lo, uint64_t *hi);
/* Formats a BDF as "00:03.0" into a static-free caller buffer of >= 8 bytes. */
const char *fmt_bdf(uint16_t bdf, char buf[static 8]);
/*
 * Options in argv: removes "--name" / "--name VALUE" pairs listed in opts and
 * leaves positional arguments. Returns false (after printing usage) on an
 * unknown option or a missing value.
 */
struct sh_opt {
	const char *name;	/* "--pasid" */
	bool has_value;
	const char *value;	/* out: the value, or "" for a flag given; NULL if absent */
};
bool sh_getopt(struct ish_shell *sh, const struct ish_command *cmd, int *argc, char **argv,
	       struct sh_opt *opts, size_t nopts);

/* The target, or report "no target is open" and return NULL. */
struct ish_target *sh_target(struct ish_shell *sh);

#endif
