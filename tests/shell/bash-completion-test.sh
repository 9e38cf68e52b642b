#!/bin/bash
# The bash completion file completes -c commands from the binary's table,
# -O parameters from its backend registry, and options.
# Usage: bash-completion-test.sh IOMMUSH COMPLETION-FILE
set -u
ish=$1 file=$2
[ -f /usr/share/bash-completion/bash_completion ] || { echo "no bash-completion: skipped"; exit 77; }
# shellcheck disable=SC1091
source /usr/share/bash-completion/bash_completion
# shellcheck disable=SC1090
source "$file"
PATH=$(dirname "$ish"):$PATH
export IOMMUSH_PLUGIN_PATH=
pass=0 fail=0
t() { # NAME EXPECTED-WORD LINE...
	local name=$1 want=$2
	shift 2
	COMP_WORDS=("$@")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMP_LINE="${COMP_WORDS[*]}"
	COMP_POINT=${#COMP_LINE}
	COMPREPLY=()
	_iommush iommush "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
	if printf '%s\n' "${COMPREPLY[@]}" | grep -qx -- "$want"; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "FAILED: $name: wanted '$want', got: ${COMPREPLY[*]}"
	fi
}
t "-c command" translate iommush -c tra
t "-c command, who-maps" who-maps iommush -c who
t "-O parameter" dump.regs= iommush -O dump.r
t "-O generic parameter" walk.max_pages= iommush -O walk.max_p
t "-b backend" gdbstub iommush -b gdb
t "option" --write iommush --wr
t "target prefix" gdb: iommush gd
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
