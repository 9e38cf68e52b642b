#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""EIO from a file laid out like /dev/mem: a real I/O error, not a shim.

The file sits on a small ext2 image on a loop device. The root table's page
(RTADDR = 0x2000, a direct block of the inode) is pointed by debugfs at the
file system's last block; the image is cut just below that block and the
loop device told (`losetup -c`): reading the root table is then "attempt to
access beyond end of device" in the block layer, and pread() returns EIO,
while the register page (0xfed90000, an early block) maps and reads as
before. Nothing of it is cached: the file system is mounted afresh.

iommush must say so with the system's words (exit 1, no signal, no
sanitizer report), and leave the file as it was (the readable part is
checksummed, size and mtime compared). Needs root, losetup, mkfs.ext2,
debugfs, filefrag and a kernel that mounts ext2 on loop devices; otherwise
exit 77 (skipped) with the reason.

Usage: devmem_eio.py IOMMUSH SOURCE_ROOT
"""
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
import ishtest  # noqa: E402

BASE = 0xFED90000
RTADDR = 0x2000      # a direct block (lblk 2) of an ext2 inode
BLOCKS = 4096        # 16 MiB of 4 KiB blocks
SANITIZER = ishtest.SANITIZER
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
    for tool in ("losetup", "mkfs.ext2", "debugfs", "filefrag", "mount", "umount"):
        if not shutil.which(tool):
            skip("%s is not installed" % tool)
    tmp = tempfile.mkdtemp(prefix="ish-eio-")
    img, mnt, loop, mounted = os.path.join(tmp, "img"), os.path.join(tmp, "m"), None, False
    failures = []
    try:
        os.mkdir(mnt)
        with open(img, "wb") as f:
            f.truncate(BLOCKS * 4096)
        sh("mkfs.ext2", "-q", "-F", "-b", "4096", img)
        p = sh("losetup", "-f", "--show", img, check=False)
        if p.returncode:
            skip("no loop device: " + p.stderr.strip())
        loop = p.stdout.strip()
        p = sh("mount", "-t", "ext2", loop, mnt, check=False)
        if p.returncode:
            skip("cannot mount ext2 on %s: %s" % (loop, p.stderr.strip()))
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
                    v = RTADDR if name == "RTADDR" else int(value, 0)
                    os.pwrite(fd, v.to_bytes(size, "little"), BASE + off)
        os.pwrite(fd, b"\x01" + b"\0" * 4095, RTADDR)   # a root entry, present
        os.fsync(fd)
        os.close(fd)
        ext = {}
        for m in re.finditer(r"^\s*\d+:\s+(\d+)\.\.\s*\d+:\s+(\d+)\.\.", sh("filefrag", "-v", mem).stdout, re.M):
            ext[int(m.group(1))] = int(m.group(2))
        reg_blk, last = ext.get(BASE // 4096), BLOCKS - 1
        if reg_blk is None or RTADDR // 4096 not in ext or not reg_blk < last:
            skip("unexpected layout: %s" % ext)
        sh("umount", mnt)
        mounted = False
        # The root table's block is now the last one: the cut below it leaves everything else.
        p = sh("debugfs", "-w", "-R", "set_inode_field /mem block[%d] %d" % (RTADDR // 4096, last), img,
               check=False)
        if p.returncode or "rror" in p.stderr:
            skip("debugfs could not move the block: " + p.stderr.strip())
        sh("mount", "-t", "ext2", "-o", "ro", loop, mnt)   # cold: nothing of the file is cached
        mounted = True
        before = readable_state(mem)
        os.truncate(img, last * 4096)
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
