#!/bin/sh
# Lua in the shell: `lua`, `script`, -e, -f, `iommush x.lua ARGS`, errors that
# do not end the shell, Ctrl-C of a runaway chunk, Lua and C plugins.
# Usage: test_shell.sh IOMMUSH SRCDIR
set -u
ish=$1 src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export IOMMUSH_PLUGIN_PATH= LUA_PATH="$src/tests/lua/?.lua;;" ISH_SOURCE_ROOT=$src
fail=0 pass=0
t() {	# t NAME EXPECTED-STATUS EXPECTED-OUTPUT-GREP CMD...
	name=$1 want=$2 pat=$3
	shift 3
	out=$("$@" 2>&1)
	st=$?
	if [ "$st" = "$want" ] && printf '%s\n' "$out" | grep -q -- "$pat"; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		printf 'FAILED: %s (status %s, want %s; output must match "%s"):\n%s\n' "$name" "$st" "$want" "$pat" "$out"
	fi
}

t "-e chunk" 0 '^3$' "$ish" -e 'print(1 + 2)'
t "lua expression" 0 '^4096$' "$ish" -c 'lua 0x1000'
t "lua state persists" 0 '^42$' "$ish" -c 'lua x = 42' -c 'lua x'
t "lua error is reported" 1 'iommush: lua: lua:1: boom' "$ish" -c "lua error('boom')"
t "lua syntax error" 1 'iommush' "$ish" -c 'lua (('
# a failing chunk does not end an interactive-style session: later lines run
t "error does not kill the shell" 1 '^after$' sh -c "printf '%s\n' \"lua error(1)\" \"lua print(2 + 2)\" \"lua print('after')\" | '$ish'"
# The chunk is the rest of the line as typed: quotes reach Lua.
t "lua keeps quotes" 0 '^x.y$' "$ish" -c 'lua print("x", '"'"'y'"'"')' 
t "iommu.target() without target" 0 '^nil$' "$ish" -e 'print(iommu.target())'
t "script args" 0 '^a b 2$' sh -c "echo 'print(table.concat({arg[1], arg[2], select(\"#\", ...)}, \" \"))' > '$tmp/args.lua'; '$ish' '$tmp/args.lua' a b"
t "script returns false" 1 '' sh -c "echo 'return false' > '$tmp/f.lua'; '$ish' '$tmp/f.lua'"
t "source x.lua" 0 '^sourced$' sh -c "echo 'print(\"sourced\")' > '$tmp/s.lua'; '$ish' -c 'source $tmp/s.lua'"
t "script by name" 1 'usage: diff' "$ish" -c 'script diff'
t "shipped script runnable by name" 1 'no target' "$ish" export.lua
# Ctrl-C: SIGINT interrupts a runaway chunk; the shell reports it and goes on
cat > "$tmp/spin.sh" <<EOS
'$ish' -c 'lua while true do end' -c 'echo next' &
pid=\$!
sleep 1
kill -INT \$pid
wait \$pid
EOS
t "Ctrl-C stops a runaway chunk" 1 'interrupted' sh "$tmp/spin.sh"
# Lua plugins: a command with help, run with arguments; a broken plugin is reported and skipped
mkdir -p "$tmp/plugins"
cat > "$tmp/plugins/a.lua" <<'EOS'
iommu.command{ name = "hello", synopsis = "hello NAME", summary = "say hello", help = "Says hello.",
	fn = function(name) print("hello " .. (name or "?")) return name ~= nil end }
EOS
echo 'error("broken plugin")' > "$tmp/plugins/b.lua"
echo 'iommu.command{ name = "units", fn = print }' > "$tmp/plugins/c.lua"
t "lua plugin command" 0 '^hello world$' env IOMMUSH_PLUGIN_PATH="$tmp/plugins" "$ish" -c 'hello world'
t "lua plugin failure status" 1 '^hello ?$' env IOMMUSH_PLUGIN_PATH="$tmp/plugins" "$ish" -c 'hello'
t "lua plugin in help" 0 'hello .*say hello' env IOMMUSH_PLUGIN_PATH="$tmp/plugins" "$ish" -c 'help'
t "lua plugin help text" 0 'Says hello' env IOMMUSH_PLUGIN_PATH="$tmp/plugins" "$ish" -c 'help hello'
t "broken plugin reported" 0 'broken plugin' env IOMMUSH_PLUGIN_PATH="$tmp/plugins" "$ish" -c 'hello x'
t "built-ins cannot be replaced" 0 "'units' is a built-in" env IOMMUSH_PLUGIN_PATH="$tmp/plugins" "$ish" -c 'hello x'
t "XDG plugin dir" 0 '^hello xdg$' env -u IOMMUSH_PLUGIN_PATH XDG_CONFIG_HOME="$tmp/xdg" sh -c "mkdir -p '$tmp/xdg/iommush' && cp -r '$tmp/plugins' '$tmp/xdg/iommush/' && '$ish' -c 'hello xdg'"
# the shipped example Lua plugin on an image built in Lua
mkdir -p "$tmp/ex" && cp "$src/plugins/lua/domains.lua" "$tmp/ex/"
cat > "$tmp/dom.lua" <<'EOS'
local images = require "images"
local img = images.new()
img:device("00:02.0", { did = 3 })
img:device("00:03.0", { did = 3 })
img:device("00:04.0", { tt = 2, did = 9 })
assert(img.t:snapshot(arg[1]))
EOS
t "build an image for domains" 0 '' "$ish" "$tmp/dom.lua" "$tmp/dom.snapshot"
t "example Lua plugin: domains" 0 '^dmar0 did 3 .*second-level.*00:02.0 00:03.0$' env IOMMUSH_PLUGIN_PATH="$tmp/ex" "$ish" "$tmp/dom.snapshot" -c domains
t "example Lua plugin: pass-through domain" 0 '^dmar0 did 9 .*pass-through.*00:04.0$' env IOMMUSH_PLUGIN_PATH="$tmp/ex" "$ish" "$tmp/dom.snapshot" -c domains
t "domains needs a target" 1 'no target' env IOMMUSH_PLUGIN_PATH="$tmp/ex" "$ish" -c domains
# the example C plugin
t "example C plugin: pte" 0 'page 0x200000 (4 KiB)' "$ish" -c 'pte 0x200003'
t "example C plugin: 2M leaf" 0 'page 0x80000000 (2048 KiB)' "$ish" -c 'pte 0x80000083 --level 2'
t "example C plugin: reserved bits" 0 'reserved bits set: 0x1000000000000' "$ish" -c 'pte 0x1000000000003'
t "example C plugin: usage" 2 'usage: pte' "$ish" -c 'pte'
# the shipped scripts against the snapshot, as `iommush TARGET -f script.lua`
t "export csv" 0 '^dmar0,00:04.0,,0x0,0x0,0x1000000000000,0x1000,1,1,1$' "$ish" "$tmp/dom.snapshot" -f "$src/scripts/export.lua"
t "export json" 0 '"bdf":"00:04.0"' "$ish" "$tmp/dom.snapshot" -c 'script export --json'
t "audit finds pass-through" 1 'high .*pass-through *00:04.0' "$ish" "$tmp/dom.snapshot" -c 'script audit'
t "diff against itself" 0 '' "$ish" "$tmp/dom.snapshot" -c "script diff $tmp/dom.snapshot"
t "watch on a snapshot" 0 'watching' "$ish" "$tmp/dom.snapshot" -c 'script watch --interval 0 --count 2'

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
