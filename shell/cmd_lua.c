// SPDX-License-Identifier: MIT
/*
 * Lua in the shell: the `lua` and `script` commands, ish_lua_run() for -e,
 * -f x.lua, `source x.lua` and `iommush x.lua ARGS`, and plugin commands.
 *
 * One Lua state lives as long as the shell, so a chunk can leave functions
 * and variables for the next one and plugins stay registered. Every entry
 * into Lua goes through a protected call with a count hook on the shell's
 * interrupt flag: a Lua error or Ctrl-C ends the chunk, never the shell.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "config.h"
#include "lua_iommu.h"
#include "shell.h"

#define COMMANDS_KEY "iommush.commands"	/* registry: name -> plugin function */
#define HOOK_COUNT 10000

static lua_State *G_L;
static struct ish_shell *G_sh;	/* the shell of the command running, for iommu.target() */

/* Plugin commands: a growing table ending with { NULL }. */
static struct ish_command *plugin_cmds;
static size_t nplugin_cmds;
static bool plugins_loaded;

static struct ish_target *shell_target(void *arg)
{
	(void)arg;
	return G_sh ? G_sh->target : NULL;
}

/* The shell's question, for targets a script opens itself. */
static struct ish_error *shell_confirm(void *arg, const struct ish_write_question *q)
{
	(void)arg;
	if (!G_sh)
		return ish_error_create(ISH_ERROR_REFUSED, "no shell to confirm the write");
	return ish_shell_confirm(G_sh, q);
}

static void interrupt_hook(lua_State *L, lua_Debug *ar)
{
	(void)ar;
	if (G_sh && G_sh->interrupted) {
		lua_sethook(L, NULL, 0, 0);
		luaL_error(L, "interrupted");
	}
}

static int traceback(lua_State *L)
{
	const char *msg = lua_tostring(L, 1);

	if (!msg) {
		if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
			return 1;
		msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
	}
	/* Ctrl-C needs no traceback. */
	if (strstr(msg, "interrupted"))
		lua_pushstring(L, msg);
	else
		luaL_traceback(L, L, msg, 1);
	return 1;
}

/* Calls the function under nargs arguments; reports an error and returns false. */
static bool call(struct ish_shell *sh, lua_State *L, int nargs, int nresults, const char *what)
{
	int base = lua_gettop(L) - nargs;
	struct ish_shell *saved = G_sh;
	int rc;

	if (sh)
		G_sh = sh;
	lua_pushcfunction(L, traceback);
	lua_insert(L, base);
	lua_sethook(L, interrupt_hook, LUA_MASKCOUNT, HOOK_COUNT);
	rc = lua_pcall(L, nargs, nresults, base);
	lua_sethook(L, NULL, 0, 0);
	lua_remove(L, base);
	G_sh = saved ? saved : G_sh;
	if (rc != LUA_OK) {
		const char *msg = lua_tostring(L, -1);

		if (sh)
			sh_error(sh, "%s%s%s", what ? what : "", what ? ": " : "", msg ? msg : "error");
		else
			fprintf(stderr, "iommush: %s%s%s\n", what ? what : "", what ? ": " : "",
				msg ? msg : "error");
		lua_pop(L, 1);
		return false;
	}
	return true;
}

/* print() goes where the shell's output goes (a file, the pager). */
static int l_print(lua_State *L)
{
	FILE *f = G_sh ? G_sh->out : stdout;
	int n = lua_gettop(L);

	for (int i = 1; i <= n; i++) {
		size_t len;
		const char *s = luaL_tolstring(L, i, &len);

		if (i > 1)
			fputc('\t', f);
		fwrite(s, 1, len, f);
		lua_pop(L, 1);
	}
	fputc('\n', f);
	return 0;
}

/* iommu.exec(LINE) -> status: runs a shell command line (0 ok, 1 failed, 2 usage). */
static int l_exec(lua_State *L)
{
	const char *line = luaL_checkstring(L, 1);
	struct ish_shell *sh = G_sh;
	const char *saved_name;
	int rc;

	if (!sh)
		return luaL_error(L, "iommu.exec: no shell");
	saved_name = sh->cmd_name;
	rc = ish_shell_run_line(sh, line);
	sh->cmd_name = saved_name;
	lua_pushinteger(L, rc);
	return 1;
}

static const char *const complete_names[] = { "none", "command", "register", "bdf", "unit",
					       "file", "param", NULL };

static int plugin_cmd(struct ish_shell *sh, int argc, char **argv);

static const char *field_str(lua_State *L, const char *k, const char *def)
{
	const char *s;

	lua_getfield(L, 1, k);
	s = lua_isnil(L, -1) ? def : lua_tostring(L, -1);
	if (!s)
		luaL_error(L, "iommu.command: '%s' must be a string", k);
	lua_pop(L, 1);
	return s;
}

static void free_command(struct ish_command *c)
{
	free((char *)c->name);
	free((char *)c->synopsis);
	free((char *)c->summary);
	free((char *)c->help);
}

/*
 * iommu.command{name = "x", synopsis = "x ARG", summary = "...", help = "...",
 * fn = function(arg1, ...) end, complete = "bdf", target = true} registers
 * a shell command. fn gets the words after the name; it returns nothing or
 * true (success), false (failure) or a status number. Built-in commands
 * cannot be replaced; registering a Lua command twice replaces it.
 */
static int l_command(lua_State *L)
{
	struct ish_command c = { 0 }, *slot = NULL;
	const struct ish_command *old;
	const char *name, *summary;
	bool ambiguous;

	luaL_checktype(L, 1, LUA_TTABLE);
	name = field_str(L, "name", NULL);
	luaL_argcheck(L, *name && strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-_") == strlen(name) &&
			 strlen(name) <= 32, 1, "name is a word of a-z, 0-9, - and _");
	lua_getfield(L, 1, "fn");
	luaL_argcheck(L, lua_isfunction(L, -1), 1, "fn must be a function");
	summary = field_str(L, "summary", field_str(L, "help", ""));
	for (size_t i = 0; i < nplugin_cmds; i++)
		if (!strcmp(plugin_cmds[i].name, name))
			slot = &plugin_cmds[i];
	if (!slot) {
		old = ish_command_find(name, &ambiguous);
		if (old && (!strcmp(old->name, name) || (old->alias && !strcmp(old->alias, name))))
			return luaL_error(L, "iommu.command: '%s' is a built-in command", name);
	}
	lua_getfield(L, 1, "complete");
	c.complete = (enum ish_complete)luaL_checkoption(L, -1, "none", complete_names);
	lua_pop(L, 1);
	c.name = strdup(name);
	c.synopsis = strdup(field_str(L, "synopsis", name));
	/* summary: one line; help: the full text (defaults to the summary). */
	c.summary = strndup(summary, strcspn(summary, "\n"));
	c.help = strdup(field_str(L, "help", summary));
	c.fn = plugin_cmd;
	c.flags = 0;
	lua_getfield(L, 1, "target");
	if (lua_toboolean(L, -1))
		c.flags |= CMD_NEEDS_TARGET;
	lua_pop(L, 1);
	if (!c.name || !c.synopsis || !c.summary || !c.help) {
		free_command(&c);
		return luaL_error(L, "out of memory");
	}
	if (slot) {
		free_command(slot);
		*slot = c;
	} else {
		struct ish_command *n = realloc(plugin_cmds, (nplugin_cmds + 2) * sizeof(*n));

		if (!n) {
			free_command(&c);
			return luaL_error(L, "out of memory");
		}
		plugin_cmds = n;
		plugin_cmds[nplugin_cmds++] = c;
		memset(&plugin_cmds[nplugin_cmds], 0, sizeof(plugin_cmds[0]));
	}
	lua_getfield(L, LUA_REGISTRYINDEX, COMMANDS_KEY);
	lua_pushvalue(L, -2);	/* fn */
	lua_setfield(L, -2, name);
	return 0;
}

/* The directories of a path list; each is passed to fn. */
static void for_each_dir(const char *list, void (*fn)(const char *dir, void *arg), void *arg)
{
	char *copy = strdup(list), *save = NULL;

	if (!copy)
		return;
	for (char *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save))
		if (*d)
			fn(d, arg);
	free(copy);
}

/* Script directories: $IOMMUSH_SCRIPT_PATH, the source tree, the data dir. */
static char *script_path(void)
{
	const char *env = getenv("IOMMUSH_SCRIPT_PATH");
	char *p = NULL;

	if (asprintf(&p, "%s%s" ISH_SOURCE_ROOT "/scripts:" ISH_DATADIR "/scripts", env ? env : "",
		     env && *env ? ":" : "") < 0)
		return NULL;
	return p;
}

static char *plugin_path(void)
{
	const char *env = getenv("IOMMUSH_PLUGIN_PATH");
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	char *p = NULL;
	int r;

	if (env)
		return strdup(env);
	if (xdg && *xdg)
		r = asprintf(&p, "%s/iommush/plugins:" ISH_DATADIR "/plugins", xdg);
	else if (home)
		r = asprintf(&p, "%s/.config/iommush/plugins:" ISH_DATADIR "/plugins", home);
	else
		r = asprintf(&p, ISH_DATADIR "/plugins");
	return r < 0 ? NULL : p;
}

static void add_package_dir(const char *dir, void *arg)
{
	luaL_Buffer *b = arg;

	luaL_addstring(b, dir);
	luaL_addstring(b, "/?.lua;");
}

static lua_State *lua_state(void);

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs every *.lua of dir, in name order; a failing plugin is reported and skipped. */
static void load_plugin_dir(const char *dir, void *arg)
{
	lua_State *L = arg;
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, cap = 0;

	if (!d)
		return;
	while ((e = readdir(d)) && n < 1000) {
		size_t len = strlen(e->d_name);

		if (len < 5 || strcmp(e->d_name + len - 4, ".lua") || e->d_name[0] == '.')
			continue;
		if (n == cap) {
			char **nn = realloc(names, (cap = cap ? 2 * cap : 16) * sizeof(*nn));

			if (!nn)
				break;
			names = nn;
		}
		if (asprintf(&names[n], "%s/%s", dir, e->d_name) >= 0)
			n++;
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; i < n; i++) {
		char what[512];

		snprintf(what, sizeof(what), "plugin %s", names[i]);
		if (luaL_loadfile(L, names[i]) != LUA_OK) {
			fprintf(stderr, "iommush: %s: %s\n", what, lua_tostring(L, -1));
			lua_pop(L, 1);
		} else {
			call(G_sh, L, 0, 0, what);
		}
		free(names[i]);
	}
	free(names);
}

static void close_state(void)
{
	if (G_L)
		lua_close(G_L);
	G_L = NULL;
	for (size_t i = 0; i < nplugin_cmds; i++)
		free_command(&plugin_cmds[i]);
	free(plugin_cmds);
	plugin_cmds = NULL;
	nplugin_cmds = 0;
}

static lua_State *lua_state(void)
{
	lua_State *L;
	luaL_Buffer b;
	char *path;

	if (G_L)
		return G_L;
	L = luaL_newstate();
	if (!L)
		return NULL;
	luaL_openlibs(L);
	luaL_requiref(L, "iommu", luaopen_iommu, 1);
	lua_pushcfunction(L, l_command);
	lua_setfield(L, -2, "command");
	lua_pushcfunction(L, l_exec);
	lua_setfield(L, -2, "exec");
	lua_pop(L, 1);
	ish_lua_set_target_fn(L, shell_target, NULL);
	ish_lua_set_confirm(L, shell_confirm, NULL);
	lua_pushcfunction(L, l_print);
	lua_setglobal(L, "print");
	lua_newtable(L);
	lua_setfield(L, LUA_REGISTRYINDEX, COMMANDS_KEY);
	/* require finds modules beside the shipped scripts. */
	path = script_path();
	lua_getglobal(L, "package");
	luaL_buffinit(L, &b);
	if (path)
		for_each_dir(path, add_package_dir, &b);
	lua_getfield(L, -2, "path");
	luaL_addvalue(&b);
	luaL_pushresult(&b);
	lua_setfield(L, -2, "path");
	lua_pop(L, 1);
	free(path);
	G_L = L;
	atexit(close_state);
	return L;
}

const struct ish_command *ish_lua_commands(void)
{
	lua_State *L;
	char *path;

	if (!plugins_loaded) {
		plugins_loaded = true;
		path = plugin_path();
		if (path && *path && (L = lua_state()))
			for_each_dir(path, load_plugin_dir, L);
		free(path);
	}
	return nplugin_cmds ? plugin_cmds : NULL;
}

/* The trampoline of every plugin command: finds the function by the command's name. */
static int plugin_cmd(struct ish_shell *sh, int argc, char **argv)
{
	lua_State *L = lua_state();
	int status = 0;

	if (!L)
		return sh_error(sh, "cannot start Lua");
	lua_getfield(L, LUA_REGISTRYINDEX, COMMANDS_KEY);
	lua_getfield(L, -1, sh->cmd_name);
	lua_remove(L, -2);
	if (!lua_isfunction(L, -1)) {
		lua_pop(L, 1);
		return sh_error(sh, "no Lua function for '%s'", sh->cmd_name);
	}
	luaL_checkstack(L, argc, "too many arguments");
	for (int i = 1; i < argc; i++)
		lua_pushstring(L, argv[i]);
	if (!call(sh, L, argc - 1, 1, NULL))
		return 1;
	if (lua_isinteger(L, -1))
		status = (int)lua_tointeger(L, -1);
	else if (lua_isboolean(L, -1))
		status = lua_toboolean(L, -1) ? 0 : 1;
	lua_pop(L, 1);
	return status < 0 || status > 2 ? 1 : status;
}

/* A script name: as given if it exists, else NAME or NAME.lua in the script path. */
static char *find_script(const char *name)
{
	struct stat st;
	char *path, *save = NULL, *found = NULL;
	bool has_ext;

	if (!stat(name, &st) || strchr(name, '/'))
		return strdup(name);
	has_ext = strlen(name) > 4 && !strcmp(name + strlen(name) - 4, ".lua");
	path = script_path();
	if (!path)
		return NULL;
	for (char *d = strtok_r(path, ":", &save); d && !found; d = strtok_r(NULL, ":", &save)) {
		if (!*d || asprintf(&found, "%s/%s%s", d, name, has_ext ? "" : ".lua") < 0) {
			found = NULL;
			continue;
		}
		if (stat(found, &st)) {
			free(found);
			found = NULL;
		}
	}
	free(path);
	return found ? found : strdup(name);
}

int ish_lua_run(struct ish_shell *sh, const char *chunk, const char *file, int argc, char **argv)
{
	lua_State *L;
	char *path = NULL;
	int rc;

	G_sh = sh;
	ish_lua_commands();	/* plugins first, so a script can use their commands */
	L = lua_state();
	if (!L)
		return sh_error(sh, "cannot start Lua: out of memory");
	if (file) {
		path = find_script(file);
		if (!path)
			return sh_report(sh, &ish_enomem);
		rc = luaL_loadfile(L, path);
	} else {
		rc = luaL_loadbuffer(L, chunk, strlen(chunk), "=lua");
	}
	if (rc != LUA_OK) {
		int r = sh_error(sh, "%s", lua_tostring(L, -1));

		lua_pop(L, 1);
		free(path);
		return r;
	}
	/* arg, as lua.c sets it: arg[0] the script, arg[1..] its arguments; also passed as `...`. */
	lua_createtable(L, argc, 1);
	lua_pushstring(L, path ? path : "lua");
	lua_rawseti(L, -2, 0);
	for (int i = 0; i < argc; i++) {
		lua_pushstring(L, argv[i]);
		lua_rawseti(L, -2, i + 1);
	}
	lua_setglobal(L, "arg");
	luaL_checkstack(L, argc + 8, "too many arguments");
	for (int i = 0; i < argc; i++)
		lua_pushstring(L, argv[i]);
	rc = call(sh, L, argc, 1, NULL) ? 0 : 1;
	/* A script may end with `return false` or a status number. */
	if (!rc) {
		if (lua_isinteger(L, -1))
			rc = (int)lua_tointeger(L, -1) ? 1 : 0;
		else if (lua_isboolean(L, -1) && !lua_toboolean(L, -1))
			rc = 1;
		lua_pop(L, 1);
	}
	fflush(sh->out);
	free(path);
	return rc;
}

static int cmd_lua(struct ish_shell *sh, int argc, char **argv)
{
	luaL_Buffer b;
	lua_State *L;
	char *chunk;
	int rc;

	if (argc < 2)
		return sh_usage(sh, sh->cmd);
	L = lua_state();
	if (!L)
		return sh_error(sh, "cannot start Lua: out of memory");
	luaL_buffinit(L, &b);
	for (int i = 1; i < argc; i++) {
		if (i > 1)
			luaL_addchar(&b, ' ');
		luaL_addstring(&b, argv[i]);
	}
	luaL_pushresult(&b);
	chunk = strdup(lua_tostring(L, -1));
	lua_pop(L, 1);
	if (!chunk)
		return sh_report(sh, &ish_enomem);
	/* "lua 1+2" prints 3, as the lua REPL does for an expression. */
	{
		char *expr = NULL;

		if (asprintf(&expr, "(function(...) if select('#', ...) > 0 then print(...) end end)(%s)",
			     chunk) >= 0 &&
		    luaL_loadbuffer(L, expr, strlen(expr), "=lua") == LUA_OK) {
			lua_pop(L, 1);
			free(chunk);
			chunk = expr;
		} else {
			free(expr);
			lua_settop(L, 0);
		}
	}
	rc = ish_lua_run(sh, chunk, NULL, 0, NULL);
	free(chunk);
	return rc;
}

static int cmd_script(struct ish_shell *sh, int argc, char **argv)
{
	if (argc < 2)
		return sh_usage(sh, sh->cmd);
	return ish_lua_run(sh, NULL, argv[1], argc - 2, argv + 2);
}

const struct ish_command ish_cmds_lua[] = {
	{ "lua", NULL, "lua CHUNK...", "run a chunk of Lua",
	  "Runs the rest of the line, exactly as typed (quotes included), as one chunk\n"
	  "of Lua in the shell's Lua state, which lives as\n"
	  "long as the shell: globals set by one chunk are there for the next. An\n"
	  "expression is printed (lua 0x1000 * 4). The iommu module is loaded;\n"
	  "iommu.target() is the open target. Ctrl-C stops a runaway chunk. See\n"
	  "iommush-lua(7).",
	  cmd_lua, CMD_RAW_ARGS, COMPLETE_NONE },
	{ "script", "run", "script NAME [ARGS...]", "run a Lua script by name, with arguments",
	  "Runs NAME (a file, or NAME.lua found in $IOMMUSH_SCRIPT_PATH or the shipped\n"
	  "scripts: audit, diff, export, watch) with ARGS as its arguments (arg[1].. and\n"
	  "...). The script sees the open target as iommu.target(). See iommush-lua(7).",
	  cmd_script, 0, COMPLETE_FILE },
	{ NULL },
};
