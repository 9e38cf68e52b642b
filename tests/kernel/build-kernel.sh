#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Build a small x86_64 guest kernel with CONFIG_INTEL_IOMMU_DEBUGFS=y from
# Debian's linux-source-VERSION package, for the debugfs fixtures
# (tests/kernel/capture.py boots it in the QEMU lab).
#
#   tests/kernel/build-kernel.sh 6.1        # or 6.12
#
# The work happens in a cache directory that is never committed:
# $IOMMUSH_KERNEL_CACHE, else ${XDG_CACHE_HOME:-$HOME/.cache}/iommush/kernel.
# The result is CACHE/VERSION/vmlinux (PVH entry: QEMU boots it directly)
# and CACHE/VERSION/bzImage.  A second run with nothing changed only
# re-checks the configuration.
#
# Debian's kernel has no INTEL_IOMMU_DEBUGFS, hence this build.  The
# configuration starts from tinyconfig and adds exactly what the lab guest
# uses (tests/qemu/lab.py): PCI + MSI, virtio-pci with virtio-net and
# virtio-blk, e1000e, nvme, the serial console, an initramfs, devtmpfs,
# debugfs, the Intel IOMMU with its debugfs files and interrupt remapping.
# Everything is built in: the guest's modules.order lists Debian modules,
# which then fail to load harmlessly.
#
# Kernel builds are slow on small machines: make runs under nice -n 19
# with -j2 (JOBS=N overrides).
set -eu

ver=${1:?usage: build-kernel.sh 6.1|6.12}
jobs=${JOBS:-2}
cache=${IOMMUSH_KERNEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/iommush/kernel}
src=$cache/linux-source-$ver
out=$cache/$ver
tarball=/usr/src/linux-source-$ver.tar.xz

mkdir -p "$cache" "$out"

if [ ! -f "$tarball" ]; then
	echo "build-kernel: $tarball missing; install it with" \
	     "'apt-get install linux-source-$ver' (and flex bison bc libelf-dev)" >&2
	exit 77
fi
for t in flex bison bc gcc make; do
	command -v $t >/dev/null || { echo "build-kernel: $t is missing" >&2; exit 77; }
done

if [ ! -f "$src/Makefile" ]; then
	echo "build-kernel: unpacking $tarball"
	rm -rf "$src.tmp"
	mkdir -p "$src.tmp"
	tar -xJf "$tarball" -C "$src.tmp"
	mv "$src.tmp/linux-source-$ver" "$src"
	rmdir "$src.tmp"
fi

# Symbols the guest needs: y, or n for ones tinyconfig's defaults get wrong.
want='
64BIT=y
SMP=n
PRINTK=y
EARLY_PRINTK=y
BUG=y
TTY=y
SERIAL_8250=y
SERIAL_8250_CONSOLE=y
BLK_DEV_INITRD=y
RD_GZIP=y
BINFMT_ELF=y
BINFMT_SCRIPT=y
PROC_FS=y
SYSFS=y
DEVTMPFS=y
DEBUG_FS=y
DEBUG_FS_ALLOW_ALL=y
MULTIUSER=y
FUTEX=y
POSIX_TIMERS=y
FILE_LOCKING=y
HYPERVISOR_GUEST=y
PVH=y
ACPI=y
PCI=y
PCI_MSI=y
PCIEPORTBUS=n
X86_LOCAL_APIC=y
X86_IO_APIC=y
X86_X2APIC=y
IOMMU_SUPPORT=y
IOMMU_DEBUGFS=y
INTEL_IOMMU=y
INTEL_IOMMU_DEBUGFS=y
INTEL_IOMMU_DEFAULT_ON=y
INTEL_IOMMU_SCALABLE_MODE_DEFAULT_ON=y
INTEL_IOMMU_SVM=n
IRQ_REMAP=y
NET=y
INET=y
PACKET=y
UNIX=y
NETDEVICES=y
ETHERNET=y
NET_VENDOR_INTEL=y
E1000E=y
VIRTIO_MENU=y
VIRTIO=y
VIRTIO_PCI=y
VIRTIO_NET=y
BLOCK=y
BLK_DEV=y
VIRTIO_BLK=y
NVME_CORE=y
BLK_DEV_NVME=y
'

cfg=$out/want.config
printf '%s\n' "$want" | sed '/^$/d' > "$cfg"

m() { nice -n 19 make -C "$src" O="$out" ARCH=x86_64 "$@"; }

if [ ! -f "$out/.config" ] || ! cmp -s "$cfg" "$out/want.config.done"; then
	m tinyconfig
	while IFS='=' read -r sym val; do
		case $val in
		y) "$src/scripts/config" --file "$out/.config" --enable "$sym" ;;
		n) "$src/scripts/config" --file "$out/.config" --disable "$sym" ;;
		esac
	done < "$cfg"
	m olddefconfig
	# Kconfig drops what a dependency forbids; say which, rather than
	# booting a kernel without the debugfs files.
	bad=0
	while IFS='=' read -r sym val; do
		if [ "$val" = y ]; then
			grep -qx "CONFIG_$sym=y" "$out/.config" || {
				echo "build-kernel: CONFIG_$sym did not stay y" >&2; bad=1; }
		else
			! grep -qx "CONFIG_$sym=y" "$out/.config" || {
				echo "build-kernel: CONFIG_$sym is still y" >&2; bad=1; }
		fi
	done < "$cfg"
	[ $bad = 0 ] || exit 1
	cp "$cfg" "$out/want.config.done"
fi

start=$(date +%s)
m -j"$jobs" vmlinux bzImage
echo "build-kernel: linux $ver built in $(( $(date +%s) - start )) s:" \
     "$out/vmlinux $out/arch/x86/boot/bzImage"
ln -sf arch/x86/boot/bzImage "$out/bzImage"
