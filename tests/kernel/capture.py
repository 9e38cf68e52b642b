#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Capture a guest's Intel IOMMU debugfs files together with its memory.

Boots a kernel built by build-kernel.sh (CONFIG_INTEL_IOMMU_DEBUGFS=y) in
the QEMU lab (tests/qemu/lab.py: same machine, devices and QMP save), with
the lab's /init extended to print every file under
/sys/kernel/debug/iommu/intel/ on the serial console just before it says
ready. The guest runs with ish.busy=0 and loglevel=1, so nothing moves
between the print and the stop and no kernel message interleaves.

  capture.py --version 6.1 --mode legacy --out DIR [--iommush BIN] [--fixture FDIR]

DIR gets what lab.py capture writes (memory.elf, regs.txt, dmar.bin, ...)
plus debugfs/, the files as the guest printed them. With --iommush and
--fixture, FDIR (tests/fixtures/debugfs/<version>-<mode>/) gets the small
committed form: debugfs/, dmar.bin, regs.txt, info.json and snapshot.elf,
iommush's own snapshot of the dump (only the VT-d pages).
Standard library only.
"""

import argparse
import gzip
import json
import os
import shutil
import subprocess
import sys
import types

HERE = os.path.dirname(os.path.abspath(__file__))
LAB = os.path.join(HERE, "..", "qemu")
sys.path.insert(0, LAB)
import lab  # noqa: E402

BEGIN = "ISH-DEBUGFS-BEGIN "
END = "ISH-DEBUGFS-END"

# Inserted before the lab init's ready line. Files are printed whole; a
# file that cannot be read says so instead of its text.
DUMP = r'''
mount -t debugfs none /sys/kernel/debug 2>/dev/null
d=/sys/kernel/debug/iommu/intel
if [ -d $d ]; then
	find $d -type f | sort | while read -r f; do
		case ${f##*/} in dmar_perf_latency) continue ;; esac
		echo "ISH-DEBUGFS-BEGIN ${f#$d/}"
		cat "$f" || echo "ISH-DEBUGFS-UNREADABLE"
		echo "ISH-DEBUGFS-END"
	done
else
	echo "ISH-DEBUGFS-MISSING"
fi
'''


def kernel_cache():
    return os.environ.get("IOMMUSH_KERNEL_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "iommush", "kernel")


def make_initrd(version):
    """The lab's initramfs tree with the debugfs dump in /init and no modules
    (the kernel has every driver built in)."""
    lab.fetch(None)
    return lab.derived_initrd(os.path.join(kernel_cache(), version, "lab"), DUMP,
                              keep_modules=False)


def split_console(console, outdir):
    """Writes each printed file under outdir/debugfs; returns their names."""
    with open(console, errors="replace") as f:
        text = f.read().replace("\r\n", "\n")
    if "ISH-DEBUGFS-MISSING" in text:
        raise RuntimeError("the guest has no /sys/kernel/debug/iommu/intel")
    names = []
    cur = None
    buf = []
    for line in text.split("\n"):
        if line.startswith(BEGIN):
            cur = line[len(BEGIN):].strip()
            buf = []
        elif line == END and cur is not None:
            rel = os.path.normpath(cur)
            if rel.startswith("..") or os.path.isabs(rel):
                raise RuntimeError("bad debugfs path %r" % cur)
            path = os.path.join(outdir, "debugfs", rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write("".join(x + "\n" for x in buf))
            names.append(rel)
            cur = None
        elif cur is not None:
            buf.append(line)
    if not names:
        raise RuntimeError("no debugfs files in %s" % console)
    return names


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--version", required=True, help="kernel built by build-kernel.sh: 6.1, 6.12")
    ap.add_argument("--mode", choices=["legacy", "scalable"], default="legacy")
    ap.add_argument("--out", required=True)
    ap.add_argument("--iommush", help="iommush binary, to write the fixture's snapshot")
    ap.add_argument("--fixture", help="write the committed fixture here")
    ap.add_argument("--timeout", type=int, default=300)
    args = ap.parse_args()

    kdir = os.path.join(kernel_cache(), args.version)
    kernel = os.path.join(kdir, "vmlinux")
    if not os.path.exists(kernel):
        print("capture: %s missing: run tests/kernel/build-kernel.sh %s" % (kernel, args.version),
              file=sys.stderr)
        return lab.SKIP
    initrd = make_initrd(args.version)
    # lab.capture boots whatever its stamp names; give it ours.
    lab.fetch = lambda a: 0
    lab.stamp_of = lambda c: {"kernel": kernel, "initrd": initrd}
    cap = types.SimpleNamespace(mode=args.mode, out=args.out, timeout=args.timeout, settle=1.0,
                                mem=256, append="loglevel=1 ish.busy=0",
                                regs_format="offsets32", kernel=kernel, kvm=False, iommush=None)
    lab.capture(cap)
    names = split_console(os.path.join(args.out, "console.log"), args.out)
    print("capture: %d debugfs files: %s" % (len(names), " ".join(names)), file=sys.stderr)

    if args.fixture:
        fx = os.path.abspath(args.fixture)
        shutil.rmtree(fx, ignore_errors=True)
        os.makedirs(fx)
        # The text is committed gzipped: a page-table dump is megabytes of
        # repetitive text (compare.py unpacks it into a temporary directory).
        os.makedirs(os.path.join(fx, "debugfs"))
        for n in names:
            # 6.7+ kernels: per-device (and per-PASID) subdirectories
            os.makedirs(os.path.dirname(os.path.join(fx, "debugfs", n)), exist_ok=True)
            with open(os.path.join(args.out, "debugfs", n), "rb") as src, \
                 gzip.open(os.path.join(fx, "debugfs", n + ".gz"), "wb", 9) as dst:
                shutil.copyfileobj(src, dst)
        for n in ("dmar.bin", "regs.txt"):
            shutil.copy(os.path.join(args.out, n), os.path.join(fx, n))
        with open(os.path.join(args.out, "info.json")) as f:
            info = json.load(f)
        info["kernel_version"] = args.version
        info["debugfs_files"] = names
        with open(os.path.join(fx, "info.json"), "w") as f:
            json.dump(info, f, indent=1)
        if args.iommush:
            subprocess.run([args.iommush, os.path.join(args.out, "memory.elf"),
                            "-O", "dump.regs=" + os.path.join(args.out, "regs.txt"),
                            "-c", "snapshot " + os.path.join(fx, "snapshot.elf")],
                           check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
