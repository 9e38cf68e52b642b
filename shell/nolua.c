// SPDX-License-Identifier: MIT
/*
 * A shell built without Lua (-Dlua=disabled): no lua/script commands, no
 * Lua plugins, and a clear answer for -e, -f x.lua and `source x.lua`.
 */
#include "shell.h"

int ish_lua_run(struct ish_shell *sh, const char *chunk, const char *file, int argc, char **argv)
{
	(void)chunk;
	(void)argc;
	(void)argv;
	if (file)
		return sh_error(sh, "%s: this iommush was built without Lua", file);
	return sh_error(sh, "this iommush was built without Lua");
}

const struct ish_command *ish_lua_commands(void)
{
	return NULL;
}
