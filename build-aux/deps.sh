#!/bin/sh
# Installs the Debian packages iommush needs to build and test, when missing.
# Usage: build-aux/deps.sh [build|test|demo]   (test = build + what the tests run)
set -eu
what=${1:-test}

build_pkgs="meson ninja-build pkg-config gcc libc6-dev libelf-dev zlib1g-dev liblzo2-dev libsnappy-dev libzstd-dev liblua5.4-dev lua5.4
libreadline-dev libedit-dev libpci-dev pci.ids"
test_pkgs="qemu-system-x86 qemu-utils busybox-static cpio python3 clang llvm valgrind
libclang-rt-14-dev acpica-tools tmux bash-completion makedumpfile jq"

case $what in
build|demo) pkgs=$build_pkgs ;;
test) pkgs="$build_pkgs $test_pkgs" ;;
*) echo "usage: $0 [build|test|demo]" >&2; exit 2 ;;
esac

missing=
for p in $pkgs; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "deps: installing:$missing" >&2
if [ "$(id -u)" != 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		SUDO=sudo
	else
		echo "deps: not root and no sudo; install these packages:$missing" >&2
		exit 1
	fi
else
	SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
