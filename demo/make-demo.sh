#!/bin/sh
# Regenerates demo/demo.snapshot: boots the lab's Debian guest under QEMU with
# a scalable-mode VT-d unit (tests/qemu/lab.py), stops it, and takes an
# iommush snapshot of it live, through QEMU's gdbstub (so the snapshot also
# holds the devices' PCI config space). Checks that the snapshot answers as
# the guest's full memory dump does.
# Usage: demo/make-demo.sh [BUILD_DIR]     (default: build)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

python3 "$top/tests/qemu/lab.py" fetch
python3 "$top/tests/qemu/lab.py" capture --mode scalable --out "$work/cap" --iommush "$build/iommush"
dump() { "$build/iommush" "$work/cap/memory.elf" -O dump.regs="$work/cap/regs.txt" "$@"; }
snap() { "$build/iommush" "$work/cap/live.snap" "$@"; }
for c in units "irte all" iq faults regs dmar; do
	dump -c "$c" >"$work/a" 2>&1
	snap -c "$c" >"$work/b" 2>&1
	cmp -s "$work/a" "$work/b" || { echo "make-demo: '$c' differs on the snapshot" >&2; exit 1; }
done
for bdf in $(snap --json -c devices | python3 -c 'import json,sys; print(" ".join(d["bdf"] for d in json.load(sys.stdin)))'); do
	dump -c "mappings $bdf" >"$work/a" 2>&1
	snap -c "mappings $bdf" >"$work/b" 2>&1
	cmp -s "$work/a" "$work/b" || { echo "make-demo: 'mappings $bdf' differs on the snapshot" >&2; exit 1; }
done
cp "$work/cap/live.snap" "$top/demo/demo.snapshot"
cp "$work/cap/info.json" "$top/demo/demo.info.json"
ls -l "$top/demo/demo.snapshot"
echo "now regenerate tests/shell/demo.test (its expected output follows the snapshot)"
