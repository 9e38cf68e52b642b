#!/bin/sh
# Regenerates demo/demo.snapshot: boots the lab's Debian guest under QEMU with
# a scalable-mode VT-d unit (tests/qemu/lab.py), saves its memory and
# registers, and keeps only what iommush reads (the snapshot command).
# Usage: demo/make-demo.sh [BUILD_DIR]     (default: build)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

python3 "$top/tests/qemu/lab.py" fetch
python3 "$top/tests/qemu/lab.py" capture --mode scalable --out "$work/cap"
"$build/iommush" "$work/cap/memory.elf" -O dump.regs="$work/cap/regs.txt" \
	-c "snapshot $top/demo/demo.snapshot"
# The snapshot must answer as the dump did.
for c in units devices "irte all" iq faults regs dmar; do
	"$build/iommush" "$work/cap/memory.elf" -O dump.regs="$work/cap/regs.txt" -c "$c" >"$work/a" 2>&1
	"$build/iommush" "$top/demo/demo.snapshot" -c "$c" >"$work/b" 2>&1
	cmp -s "$work/a" "$work/b" || { echo "make-demo: '$c' differs on the snapshot" >&2; exit 1; }
done
cp "$work/cap/info.json" "$top/demo/demo.info.json"
ls -l "$top/demo/demo.snapshot"
