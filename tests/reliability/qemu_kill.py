#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Fault injection: QEMU is SIGKILLed while iommush walks its tables through
the gdbstub. Standard library only.

Usage: qemu_kill.py IOMMUSH [QEMU]

QEMU (q35, -device intel-iommu, 128 MiB, stopped from the start with -S, so
no firmware touches memory) gets a table set written into guest RAM by
iommush --write itself: a legacy root and context table for 00:01.0 and a
3-level second-level table (QEMU's default aw-bits=39 offers only 3 levels)
whose 512 L3 entries all point at one L2 table whose 512 entries all point at
one L1 table of 512 contiguous 4 KiB pages. Aliased tables are no cycle: the
walk visits the L1 page 262144 times and reports 262144 ranges of 2 MiB;
with cache.pages=0 each visit is a gdbstub round trip, so the walk lasts far
longer than it takes to kill QEMU. RTADDR, then GCMD.SRTP and GCMD.TE are
set through the registers.

Then `iommush gdb:unix:PATH` reads commands from a pipe: `mappings 00:01.0`;
once output flows QEMU is SIGKILLed; then `echo alive`, `open DUMP` and
`units` on a small raw image must run. Checks: exactly one error line for the
mappings, exit status 1, no signal, no sanitizer report, the next commands'
output. Exit 77 (skipped) without qemu-system-x86_64.
"""
import ctypes
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from images import CAP, ECAP, RTPS, TES, Image, elf_core, unit_note  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
import ishtest  # noqa: E402

SKIP = 77
ROOT, CTX, L3, L2, L1 = (0x6000000 + i * 0x1000 for i in range(5))
HPA = 0x40000000
SANITIZER = ishtest.SANITIZER
# How a dead peer shows, depending on where the read was when the socket went.
DEAD = ("iommush: mappings: the gdbstub closed the connection",
        "iommush: mappings: reading from the gdbstub: Connection reset by peer",
        "iommush: mappings: writing to the gdbstub: Broken pipe",
        "iommush: mappings: writing to the gdbstub: Connection reset by peer")


def die_with_parent():
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    iommush = os.path.abspath(sys.argv[1])
    qemu = sys.argv[2] if len(sys.argv) > 2 else (os.environ.get("QEMU") or
                                                   shutil.which("qemu-system-x86_64"))
    if not qemu or not os.path.exists(qemu):
        print("skipped: no qemu-system-x86_64")
        return SKIP
    tmp = tempfile.mkdtemp(prefix="ish-qemu-kill-")
    sock = os.path.join(tmp, "gdb.sock")
    vm = subprocess.Popen([qemu, "-machine", "q35", "-device", "intel-iommu", "-m", "128",
                           "-nographic", "-display", "none", "-monitor", "none", "-serial",
                           "none", "-nodefaults", "-S",
                           "-gdb", "unix:%s,server=on,wait=off" % sock],
                          stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, preexec_fn=die_with_parent)
    failures = []
    checks = []

    def check(cond, what):
        print(("ok     " if cond else "FAILED ") + what, flush=True)
        checks.append(what)
        if not cond:
            failures.append(what)

    try:
        deadline = time.time() + 30
        while not os.path.exists(sock):
            if vm.poll() is not None or time.time() > deadline:
                print("FAILED qemu did not start: " + vm.stderr.read().decode(errors="replace"))
                return 1
            time.sleep(0.05)
        target = "gdb:unix:" + sock
        common = ["-O", "gdbstub.regbase=0xfed90000", "-O", "gdbstub.leave=stopped"]

        # The tables, written through the gdbstub by iommush in write mode.
        w = ["local t = iommu.target()",
             "assert(t:write64(%#x, %#x))" % (ROOT, CTX | 1),
             "assert(t:write64(%#x, %#x))" % (CTX + 8 * 16, L3 | 1),          # devfn 8: P, TT 0
             "assert(t:write64(%#x, %#x))" % (CTX + 8 * 16 + 8, 1 | (1 << 8)),  # AW 1, DID 1
             "local b3, b2, b1 = {}, {}, {}",
             "for i = 0, 511 do b3[#b3 + 1] = string.pack('<I8', %#x) end" % (L2 | 3),
             "for i = 0, 511 do b2[#b2 + 1] = string.pack('<I8', %#x) end" % (L1 | 3),
             "for i = 0, 511 do b1[#b1 + 1] = string.pack('<I8', %#x + i * 4096) end"
             % (HPA | 3),
             "assert(t:write(%#x, table.concat(b3)))" % L3,
             "assert(t:write(%#x, table.concat(b2)))" % L2,
             "assert(t:write(%#x, table.concat(b1)))" % L1]
        p = subprocess.run([iommush, target, "--write"] + common +
                           ["-e", "\n".join(w),
                            "-c", "set reg dmar0 RTADDR %#x" % ROOT,
                            "-c", "set reg dmar0 GCMD 0x40000000",
                            "-c", "set reg dmar0 GCMD 0x80000000",
                            "-c", "translate 00:01.0 0x200000"],
                           capture_output=True, text=True, timeout=120)
        check(p.returncode == 0 and "=> HPA 0x40000000 (4K page)" in p.stdout,
              "tables written and translate 00:01.0 0x200000 gives HPA 0x40000000 (%s)"
              % (p.stderr.strip() or "status %d" % p.returncode))
        if p.returncode:
            return 1

        # What to open after the failure: an ELF core with the unit in its notes.
        dump = Image(size=0x20000)
        dump_path = os.path.join(tmp, "after.elf")
        elf_core(dump_path, [(0, bytes(dump.mem), None)],
                 unit_note({0: (32, 0x10), 8: (64, CAP), 0x10: (64, ECAP),
                            0x1c: (32, TES | RTPS), 0x20: (64, dump.root)}))
        sh = subprocess.Popen([iommush, target, "-O", "cache.pages=0"] + common,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, bufsize=1,
                              env=dict(os.environ, NO_COLOR="1"))
        lines = []
        err = []
        t_err = threading.Thread(target=lambda: err.append(sh.stderr.read()))
        t_err.start()
        sh.stdin.write("mappings 00:01.0\n")
        sh.stdin.flush()
        # Wait for the walk to be well under way, then kill QEMU under it.
        deadline = time.time() + 60
        while len(lines) < 2000 and time.time() < deadline:
            l = sh.stdout.readline()
            if not l:
                break
            lines.append(l)
        walking = len(lines) >= 2000
        vm.kill()
        vm.wait()
        killed_at = len(lines)
        sh.stdin.write("echo alive\nopen %s\nunits\n" % dump_path)
        sh.stdin.close()
        try:
            rest = sh.stdout.read()
            rc = sh.wait(timeout=60)
        except subprocess.TimeoutExpired:
            sh.kill()
            rc = -1
        t_err.join()
        stderr = "".join(err)
        out_lines = lines + rest.splitlines(True)
        check(walking, "mappings was streaming when QEMU was killed (%d lines)" % killed_at)
        check(0 <= rc < 128, "no signal, no hang (status %d)" % rc)
        check(rc == 1, "exit status 1 (%d)" % rc)
        check(not any(s in stderr for s in SANITIZER), "no sanitizer report")
        elines = stderr.splitlines()
        check(len(elines) == 1 and elines[0] in DEAD,
              "one clear error line for mappings: %r" % elines)
        check(len(out_lines) < 262144, "the walk stopped (%d ranges printed)" % len(out_lines))
        check("alive\n" in out_lines, "the next command ran (echo alive)")
        before = out_lines[:out_lines.index("alive\n")] if "alive\n" in out_lines else []
        check(all(l.startswith("0x") for l in before),
              "nothing but whole mapping lines before it (no half line, no summary)")
        check(any(l.startswith("dmar0   0000 0xfed90000         1.0    enabled   legacy")
                  for l in out_lines), "open of a dump and units ran after the failure")
    finally:
        if vm.poll() is None:
            vm.kill()
            vm.wait()
        vm.stderr.close()
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d passed, %d failed" % (len(checks) - len(failures), len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
