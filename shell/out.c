// SPDX-License-Identifier: MIT
/* Output helpers: text, errors, usage, streamed listings. JSON goes through json.c. */
#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "shell.h"

void sh_printf(struct ish_shell *sh, const char *fmt, ...)
{
	va_list ap;

	/* During a listing, into its buffer; what does not fit goes after what is buffered. */
	if (sh->stream) {
		char *p = out_buf_room(sh->stream, OUT_BUF_ROOM_MAX);
		int n;

		va_start(ap, fmt);
		n = vsnprintf(p, OUT_BUF_ROOM_MAX, fmt, ap);
		va_end(ap);
		if (n >= 0 && n < OUT_BUF_ROOM_MAX) {
			out_buf_commit(sh->stream, p + n);
			if (memchr(p, '\n', (size_t)n))
				out_buf_line(sh->stream);
			return;
		}
		out_buf_flush(sh->stream);
	}
	va_start(ap, fmt);
	vfprintf(sh->out, fmt, ap);
	va_end(ap);
}

void sh_flush(struct ish_shell *sh)
{
	if (sh->stream)
		out_buf_flush(sh->stream);
	fflush(sh->out);
}

void sh_stream_begin(struct ish_shell *sh, struct out_buf *b)
{
	fflush(sh->out);
	out_buf_init(b, sh->out);
	/* The pager shows a screenful: give it one soon, as stdio's 4 KiB pipe buffer did. */
	if (sh->out == sh->pager_file)
		b->limit = 4096;
	sh->stream = b;
	json_set_buffer(&sh->json, b);
}

int sh_stream_end(struct ish_shell *sh)
{
	int err = 0;

	if (sh->stream)
		err = out_buf_flush(sh->stream);
	sh->stream = NULL;
	json_set_buffer(&sh->json, NULL);
	return err;
}

int sh_stream_failed(struct ish_shell *sh, int errnum)
{
	if (errnum == EPIPE) {
		/*
		 * The reader has what it wanted: no message. Without a prompt
		 * nobody reads what would follow; at one, the user goes on.
		 */
		if (sh->out != sh->pager_file && !sh->interactive)
			sh->quit = true;
		return 0;
	}
	return sh_error(sh, "write error: %s", strerror(errnum));
}

static void error_prefix(struct ish_shell *sh)
{
	sh_flush(sh);
	if (sh->color)
		fputs("\033[31m", stderr);
	fputs("iommush: ", stderr);
	if (sh->color)
		fputs("\033[0m", stderr);
	if (sh->cmd_name)
		fprintf(stderr, "%s: ", sh->cmd_name);
}

int sh_report(struct ish_shell *sh, struct ish_error *err)
{
	error_prefix(sh);
	fprintf(stderr, "%s\n", err ? err->message : "unknown error");
	ish_error_destroy(err);
	return 1;
}

int sh_error(struct ish_shell *sh, const char *fmt, ...)
{
	va_list ap;

	error_prefix(sh);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

int sh_usage(struct ish_shell *sh, const struct ish_command *cmd)
{
	sh_flush(sh);
	fprintf(stderr, "usage: %s\n", cmd->synopsis);
	return 2;
}

bool sh_json(const struct ish_shell *sh)
{
	return sh->mode == OUT_JSON || sh->mode == OUT_JSONL;
}

bool sh_jsonl(const struct ish_shell *sh)
{
	return sh->mode == OUT_JSONL;
}

void sh_list_begin(struct ish_shell *sh)
{
	if (sh->mode == OUT_JSONL)
		json_lines_begin(&sh->json);
	else if (sh->mode == OUT_JSON)
		json_begin_array(&sh->json);
}

void sh_list_end(struct ish_shell *sh)
{
	if (sh->mode == OUT_JSONL) {
		json_lines_end(&sh->json);
	} else if (sh->mode == OUT_JSON) {
		json_end_array(&sh->json);
		json_end_line(&sh->json);
	}
}

bool sh_colors(const struct ish_shell *sh)
{
	/* The pager (less -R) passes colours through; files and pipes get none. */
	return sh->color_out && sh->mode == OUT_TEXT &&
	       (sh->out == stdout || sh->out == sh->pager_file);
}

void sh_color(struct ish_shell *sh, enum sh_color c)
{
	static const char *const seq[] = { "\033[0m", "\033[32m", "\033[1;31m", "\033[2m" };

	if (!sh_colors(sh))
		return;
	if (sh->stream)
		out_buf_write(sh->stream, seq[c], strlen(seq[c]));
	else
		fputs(seq[c], sh->out);
}

void sh_flag(struct ish_shell *sh, const char *name, bool on)
{
	size_t n = strlen(name);

	if (sh->stream) {
		if (on)
			sh_color(sh, SH_GOOD);
		out_buf_write(sh->stream, name, n);
		out_buf_write(sh->stream, on ? "+" : "-", 1);
		if (on)
			sh_color(sh, SH_RESET);
		return;
	}
	if (on) {
		sh_color(sh, SH_GOOD);
		sh_printf(sh, "%s+", name);
		sh_color(sh, SH_RESET);
	} else {
		sh_printf(sh, "%s-", name);
	}
}

struct ish_target *sh_target(struct ish_shell *sh)
{
	if (!sh->target)
		sh_error(sh, "no target is open (give one on the command line or use 'open TARGET')");
	return sh->target;
}
