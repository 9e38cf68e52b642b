#!/bin/sh
# gen-man.sh IOMMUSH SECTION VERSION IN OUT: fill @VERSION@ and @COMMANDS@/@BACKENDS@.
set -eu
iommush=$1 section=$2 version=$3 in=$4 out=$5
tmp=$out.tmp
# No user plugins in the generated page: only what is built in.
IOMMUSH_PLUGIN_PATH= "$iommush" --man-section "$section" > "$tmp.sec"
awk -v sec="$tmp.sec" -v ver="$version" '
	/^@COMMANDS@$|^@BACKENDS@$/ { while ((getline l < sec) > 0) print l; next }
	{ gsub(/@VERSION@/, ver); print }' "$in" > "$tmp"
rm -f "$tmp.sec"
mv "$tmp" "$out"
