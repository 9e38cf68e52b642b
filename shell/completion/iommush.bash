# bash completion for iommush                                   -*- shell-script -*-
# Options, the commands of -c (from the binary's own table), -O parameters
# (from its backend registry), backend names, and files for TARGET and -f.

_iommush()
{
	local cur prev words cword
	_init_completion || return

	case $prev in
	-c)
		local cmds
		cmds=$("$1" -c help 2>/dev/null | awk 'NR > 1 { print $1 }')
		COMPREPLY=($(compgen -W "$cmds" -- "$cur"))
		return
		;;
	-O)
		local params
		params=$("$1" -c 'backends -v' 2>/dev/null | awk '$1 == "-O" { print $2 "=" }')
		params="$params cache.pages= walk.max_pages= walk.max_mappings= write.log= write.syslog= iommu.sysfs="
		compopt -o nospace 2>/dev/null
		COMPREPLY=($(compgen -W "$params" -- "$cur"))
		return
		;;
	-b | --backend)
		local backends
		backends=$("$1" -c backends 2>/dev/null | awk '{ print $1 }')
		COMPREPLY=($(compgen -W "$backends" -- "$cur"))
		return
		;;
	-f)
		_filedir
		return
		;;
	-e)
		return
		;;
	esac

	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W '-c -f -e -O -b --backend --json --jsonl --write --yes --force
			--batch --demo --help --version' -- "$cur"))
		return
	fi
	COMPREPLY=($(compgen -W 'gdb: live devmem kcore debugfs' -- "$cur"))
	_filedir
} &&
	complete -F _iommush iommush
