#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""EIO from a file laid out like /dev/mem: a real I/O error, not a shim.

The file sits on a small ext4 image on a loop device. Its register page
(0xfed90000) lies in a block below the root table's page (RTADDR, 0x7fe000);
after a remount (so nothing is cached) the backing image is cut between the
two and the loop device told (`losetup -c`): reading the root table's block
is then "attempt to access beyond end of device" in the block layer, and
pread() returns EIO, while the register page maps and reads as before.

iommush must say so with the system's words (exit 1, no signal, no
sanitizer report), and leave the file as it was (the readable part is
checksummed, size and mtime compared). Needs root, losetup, mkfs.ext4,
filefrag and a kernel that mounts ext4 on loop devices; otherwise exit 77
(skipped) with the reason.

Usage: devmem_eio.py IOMMUSH SOURCE_ROOT
"""
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile

BASE = 0xFED90000
RTADDR = 0x7FE000
SANITIZER = ("AddressSanitizer", "LeakSanitizer", "UndefinedBehaviorSanitizer", "runtime error:")
REGS = {"VER": (0x00, 4), "CAP": (0x08, 8), "ECAP": (0x10, 8), "GSTS": (0x1C, 4),
        "RTADDR": (0x20, 8), "IQA": (0x90, 8), "IRTA": (0xB8, 8)}


def skip(why):
    print("SKIP: " + why)
    sys.exit(77)


def sh(*argv, check=True):
    return subprocess.run(argv, capture_output=True, text=True, check=check)


def readable_state(path):
    """What must not change: the register page's bytes, the size, the mtime."""
    st = os.stat(path)
    with open(path, "rb") as f:
        f.seek(BASE)
        return hashlib.sha256(f.read(0x1000)).hexdigest(), st.st_size, st.st_mtime_ns


def main():
    iommush, src = os.path.abspath(sys.argv[1]), sys.argv[2]
    if os.geteuid() != 0:
        skip("needs root (loop devices, mount)")
    for tool in ("losetup", "mkfs.ext4", "filefrag", "mount", "umount"):
        if not shutil.which(tool):
            skip("%s is not installed" % tool)
    tmp = tempfile.mkdtemp(prefix="ish-eio-")
    img, mnt, loop, mounted = os.path.join(tmp, "img"), os.path.join(tmp, "m"), None, False
    failures = []
    try:
        os.mkdir(mnt)
        with open(img, "wb") as f:
            f.truncate(16 << 20)
        # no journal: every block of the file system is data or fixed metadata at its start
        sh("mkfs.ext4", "-q", "-F", "-b", "4096", "-O", "^has_journal", img)
        p = sh("losetup", "-f", "--show", img, check=False)
        if p.returncode:
            skip("no loop device: " + p.stderr.strip())
        loop = p.stdout.strip()
        p = sh("mount", "-t", "ext4", loop, mnt, check=False)
        if p.returncode:
            skip("cannot mount ext4 on %s: %s" % (loop, p.stderr.strip()))
        mounted = True
        mem = os.path.join(mnt, "mem")
        fd = os.open(mem, os.O_RDWR | os.O_CREAT, 0o644)
        os.ftruncate(fd, BASE + 0x1000)
        for line in open(os.path.join(src, "tests/fixtures/dmar/qemu72.regs")):
            line = line.split("#")[0].strip()
            if "=" in line:
                name, value = (s.strip() for s in line.split("=", 1))
                if name in REGS:
                    off, size = REGS[name]
                    os.pwrite(fd, int(value, 0).to_bytes(size, "little"), BASE + off)
        os.fsync(fd)
        # Fill the file system, free the last filler: the root table's page goes at its end.
        n = 0
        try:
            while True:
                with open(os.path.join(mnt, "fill%d" % n), "wb") as f:
                    n += 1
                    f.write(b"\0" * 65536)
                    f.flush()
                    os.fsync(f.fileno())
        except OSError:
            pass
        os.unlink(os.path.join(mnt, "fill%d" % (n - 1)))
        if n > 1:
            os.unlink(os.path.join(mnt, "fill%d" % (n - 2)))
        os.pwrite(fd, b"\x01" + b"\0" * 4095, RTADDR)   # a root entry, present
        os.fsync(fd)
        os.close(fd)
        ext = {}
        for m in re.finditer(r"^\s*\d+:\s+(\d+)\.\.\s*\d+:\s+(\d+)\.\.", sh("filefrag", "-v", mem).stdout, re.M):
            ext[int(m.group(1))] = int(m.group(2))
        reg_blk, ram_blk = ext.get(BASE // 4096), ext.get(RTADDR // 4096)
        if reg_blk is None or ram_blk is None or not reg_blk < ram_blk:
            skip("ext4 placed the blocks otherwise (registers %s, root table %s)" % (reg_blk, ram_blk))
        sh("umount", mnt)
        mounted = False
        sh("mount", "-t", "ext4", "-o", "ro", loop, mnt)   # cold: nothing of the file is cached
        mounted = True
        before = readable_state(mem)
        os.truncate(img, ram_blk * 4096)
        sh("losetup", "-c", loop)
        try:
            with open(mem, "rb") as f:
                f.seek(RTADDR)
                f.read(16)
            skip("reading past the device did not fail")
        except OSError as e:
            if e.errno != 5:
                skip("reading past the device gave %s, not EIO" % e)
        empty = os.path.join(tmp, "sysfs")
        os.mkdir(empty)
        argv = [iommush, "devmem", "-O", "devmem.path=" + mem,
                "-O", "acpi.dmar=" + os.path.join(src, "tests/fixtures/dmar/qemu72-q35-intremap.bin"),
                "-O", "lockdown.path=", "-O", "iommu.sysfs=" + empty, "-O", "write.log=",
                "-O", "write.syslog=off", "-c", "regs dmar0 VER"]
        r = subprocess.run(argv, capture_output=True, text=True, timeout=60,
                           env=dict(os.environ, NO_COLOR="1"))
        want = "iommush: devmem: reading %s at %#x: Input/output error\n" % (mem, RTADDR)
        checks = [
            (0 <= r.returncode < 128, "no signal (status %d)" % r.returncode),
            (not any(s in r.stderr for s in SANITIZER), "no sanitizer report"),
            (r.returncode == 1, "exit status 1 (got %d)" % r.returncode),
            (r.stdout == "", "nothing on stdout: %r" % r.stdout),
            (r.stderr == want, "the message: %r, wanted %r" % (r.stderr, want)),
            (readable_state(mem) == before, "the file is as it was"),
        ]
        for ok, what in checks:
            print(("ok     " if ok else "FAILED ") + what)
            if not ok:
                failures.append(what)
    finally:
        if mounted:
            subprocess.run(["umount", mnt])
        if loop:
            subprocess.run(["losetup", "-d", loop])
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d passed, %d failed" % (6 - len(failures), len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
