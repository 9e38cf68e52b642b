#!/usr/bin/env python3
"""Writes on a live host, end to end, against files (never this machine).

Usage: write-test.py IOMMUSH

Builds a file laid out like /dev/mem (the register block of the QEMU 7.2
unit from tests/fixtures/dmar/qemu72.regs at 0xfed90000, sparse RAM below),
the ACPI DMAR table of the same machine, and a /sys/class/iommu laid out as
Linux lays it out when its intel-iommu driver owns that unit. Then checks:
refused without --write; refused naming the driver without --force; refused
in batch mode without --yes (exit status 1); written with --write --force
--yes, the exact bytes at the exact offset and a log line with the old and
new value; the debugfs and live backends; Lua writes through the same gate;
and, in a pseudo-terminal, that 'n' refuses, 'y' writes and an invalidation
asks once.
"""
import importlib.util
import os
import re
import shutil
import struct
import gzip
import hashlib
import subprocess
import sys
import tempfile

passed = failed = 0
BASE = 0xFED90000
# Offsets and widths of the registers qemu72.regs names (VT-d 11.4; Linux DMAR_*_REG).
REGS = {
    "VER": (0x00, 4), "CAP": (0x08, 8), "ECAP": (0x10, 8), "GCMD": (0x18, 4),
    "GSTS": (0x1C, 4), "RTADDR": (0x20, 8), "CCMD": (0x28, 8), "FSTS": (0x34, 4),
    "FECTL": (0x38, 4), "FEDATA": (0x3C, 4), "FEADDR": (0x40, 4), "FEUADDR": (0x44, 4),
    "PMEN": (0x64, 4), "IQH": (0x80, 8), "IQT": (0x88, 8), "IQA": (0x90, 8),
    "ICS": (0x9C, 4), "IRTA": (0xB8, 8),
}


def check(cond, what, detail=""):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAILED:", what)
        if detail:
            print("   ", detail.replace("\n", "\n    "))


def build(src, tmp):
    mem = os.path.join(tmp, "mem")
    with open(mem, "wb") as f:
        f.truncate(BASE + 0x1000)
        for line in open(os.path.join(src, "tests/fixtures/dmar/qemu72.regs")):
            line = line.split("#")[0].strip()
            if "=" not in line:
                continue
            name, value = (s.strip() for s in line.split("=", 1))
            if ":" in name:
                off, width = name.split(":")
                off, size = int(off, 0), int(width) // 8
            else:
                off, size = REGS[name]
            f.seek(BASE + off)
            f.write(int(value, 0).to_bytes(size, "little"))
    # /sys/class/iommu/dmar0 -> ../../devices/virtual/iommu/dmar0, group "intel-iommu"
    dev = os.path.join(tmp, "sys/devices/virtual/iommu/dmar0/intel-iommu")
    os.makedirs(dev)
    for name, text in (("address", "fed90000\n"), ("cap", "d2008c22260206\n"),
                       ("ecap", "f00f4a\n"), ("version", "1:0\n")):
        with open(os.path.join(dev, name), "w") as f:
            f.write(text)
    os.makedirs(os.path.join(tmp, "sys/class/iommu"))
    os.symlink("../../devices/virtual/iommu/dmar0", os.path.join(tmp, "sys/class/iommu/dmar0"))
    # A real debugfs capture, as the kernel shows it (uncompressed).
    dfs = os.path.join(tmp, "debugfs")
    os.makedirs(dfs)
    fx = os.path.join(src, "tests/fixtures/debugfs/6.1-legacy/debugfs")
    for name in os.listdir(fx):
        if name.endswith(".gz"):
            with gzip.open(os.path.join(fx, name)) as g, open(os.path.join(dfs, name[:-3]), "wb") as o:
                shutil.copyfileobj(g, o)
    return mem


def word(mem, off, size):
    with open(mem, "rb") as f:
        f.seek(BASE + off)
        return int.from_bytes(f.read(size), "little")


def main():
    iommush = os.path.abspath(sys.argv[1])
    src = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ, NO_COLOR="1", LC_ALL="C", IOMMUSH_PLUGIN_PATH="")
    with tempfile.TemporaryDirectory(prefix="iommush-write-") as tmp:
        mem = build(src, tmp)
        log = os.path.join(tmp, "write.log")
        opts = ["-O", "devmem.path=" + mem,
                "-O", "acpi.dmar=" + os.path.join(src, "tests/fixtures/dmar/qemu72-q35-intremap.bin"),
                "-O", "lockdown.path=", "-O", "iommu.sysfs=" + os.path.join(tmp, "sys/class/iommu"),
                "-O", "write.log=" + log, "-O", "write.syslog=off"]

        def run(*args, target="devmem", extra=()):
            p = subprocess.run([iommush, target, *opts, *extra, *args], capture_output=True,
                               text=True, env=env, stdin=subprocess.DEVNULL)
            return p.returncode, p.stdout, p.stderr

        def logtext():
            return open(log).read() if os.path.exists(log) else ""

        fectl = word(mem, 0x38, 4)
        check(fectl == 0, "FECTL starts at 0")

        # 1. read-only by default
        rc, out, err = run("-c", "set reg FECTL 0x80000000")
        check(rc == 1 and err == "iommush: set: target is read-only: set reg FECTL needs --write or 'set write on'\n",
              "no --write: refused by the library's gate", err)

        # 2. the kernel's driver owns the unit
        rc, out, err = run("--write", "--yes", "-c", "set reg FECTL 0x80000000")
        check(rc == 1 and "the kernel's intel-iommu driver owns dmar0" in err and "--force" in err
              and "GSTS 0xc7000000: TES+ QIES+ IRES+" in err, "owned unit: refused naming the driver", err)
        check(word(mem, 0x38, 4) == 0, "owned unit: nothing written")
        check('op="set reg FECTL" unit=dmar0 result=refused reason="the kernel\'s intel-iommu driver owns dmar0'
              in logtext(), "owned unit: the refusal is logged", logtext())

        # 3. batch mode without --yes
        rc, out, err = run("--write", "--force", "-c", "set reg FECTL 0x80000000")
        check(rc == 1 and "refusing without --yes" in err, "batch without --yes: exit 1, says why", err)
        check(word(mem, 0x38, 4) == 0, "batch without --yes: nothing written")

        # 4. written: the value at 0xfed90038, four bytes, and the log line
        rc, out, err = run("--write", "--force", "--yes", "-c", "set reg FECTL 0x80000000")
        check(rc == 0 and out == "dmar0: FECTL (0x38) <- 0x80000000, reads back 0x80000000\n",
              "--write --force --yes: written", out + err)
        with open(mem, "rb") as f:
            f.seek(BASE + 0x34)
            around = f.read(12)
        check(around == bytes.fromhex("02000000" "00000080" "00000000"),
              "FECTL's four bytes, and FSTS/FEDATA beside them untouched", around.hex())
        check(re.search(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z uid=\d+ pid=\d+ backend=devmem "
                        r'spec="devmem" op="set reg FECTL" unit=dmar0 reg=FECTL offset=0x38 width=32 '
                        r"old=0 new=0x80000000 result=ok$", logtext(), re.M),
              "the log line has the old and new value", logtext())

        # a 64-bit register: eight bytes
        rc, out, err = run("--write", "--force", "--yes", "--json", "-c", "set reg IRTA 0x7fd00f")
        check(rc == 0 and '"register":"IRTA"' in out.replace(" ", "") and
              word(mem, 0xb8, 8) == 0x7fd00f, "IRTA: a 64-bit write", out + err)
        check("reg=IRTA offset=0xb8 width=64 old=0x7fc00f new=0x7fd00f result=ok" in logtext(),
              "IRTA: logged with its old value", logtext())
        # IQT of the driver's queue: never, not even with --force
        rc, out, err = run("--write", "--force", "--yes", "-c", "set reg IQT 0x60")
        check(rc == 1 and word(mem, 0x88, 8) == 0x40 and
              "writing IQT of dmar0 is refused, even with --force: another agent drives its "
              "invalidation queue (the kernel's intel-iommu driver registered dmar0 (" in err,
              "IQT of the driver's queue: refused, unwritten", out + err)
        check('op="set reg IQT" unit=dmar0 result=refused reason="writing IQT of dmar0 is refused'
              in logtext(), "IQT: the refusal is logged", logtext())

        # 4b. the register access model (lib/regs.c), asked by the library's gate for every caller
        def digest():
            # the register page and the RAM below 8 MiB (the tables): the file is 4 GiB, sparse
            with open(mem, "rb") as f:
                h = hashlib.sha256(f.read(8 << 20))
                f.seek(BASE)
                h.update(f.read(0x1000))
            st = os.stat(mem)
            return h.hexdigest(), st.st_size, st.st_mtime_ns
        before = digest()
        for cmd, msg in (("set reg CAP 0", "CAP is read-only (RO): the hardware ignores writes to it (VT-d 11.4.2)"),
                         ("set reg GSTS 0x80000000",
                          "GSTS is read-only (RO): the hardware ignores writes to it (VT-d 11.4.4.2)"),
                         ("set reg FRCD0_LO 0", "FRCD0_LO is read-only (RO): the hardware ignores writes to it "
                          "(VT-d 11.4 Fault Recording Registers [n])")):
            for flags in (("--write", "--force", "--yes"), ()):
                rc, out, err = run(*flags, "-c", cmd)
                check(rc == 1 and out == "" and err == "iommush: set: %s\n" % msg,
                      "%s %s: refused as read-only, whatever the mode" % (cmd, " ".join(flags)), out + err)
        check(digest() == before, "read-only registers: not a byte of the file changed")
        check('op="set reg CAP" unit=dmar0 reg=CAP offset=0x8 width=64 old=? new=0 result=refused '
              'reason="CAP is read-only (RO)' in logtext(), "the RO refusal is logged", logtext())
        # Lua: the same gate, the same words
        for reg in ("CAP", "GSTS"):
            rc, out, err = run("--write", "--force", "--yes", "-e",
                               'local t = iommu.target(); print(t:write_reg(0, "%s", 0))' % reg)
            check(rc == 0 and out == "nil\t%s is read-only (RO): the hardware ignores writes to it (VT-d %s)\trefused\n"
                  % (reg, "11.4.2" if reg == "CAP" else "11.4.4.2"), "Lua t:write_reg %s: the same refusal" % reg,
                  out + err)
        rc, out, err = run("--write", "--force", "--yes", "-e",
                           'local t = iommu.target(); print(t:write_reg(0, 0x4, 1))')
        check(out == "nil\tdmar0 has no VT-d register at offset 0x4 (a 32-bit write): refusing a write the "
              "register table cannot check\tnot-found\n", "Lua: an unknown offset is refused", out + err)
        check(digest() == before, "Lua refusals: not a byte of the file changed")
        # WO GCMD is written; RW1C FSTS says what the value clears
        rc, out, err = run("--write", "--force", "--yes", "-c", "set reg GCMD 0")
        check(rc == 0 and out.startswith("dmar0: GCMD (0x18) <- 0, reads back 0; GSTS ") and "\n" == out[-1]
              and out.count("\n") == 1, "set reg GCMD (WO): written", out + err)
        rc, out, err = run("--write", "--force", "--yes", "-c", "set reg FSTS 0x2")
        check(rc == 0 and out == "dmar0: FSTS (0x34) <- 0x2, reads back 0x2\n"
              "dmar0: FSTS is RW1C: 0x2 clears nothing (writing 1 clears a bit, 0 leaves it as it is); "
              "PPF is RO: this write does not change it\n", "set reg FSTS 0x2: the RW1C note", out + err)
        rc, out, err = run("--write", "--force", "--yes", "--json", "-c", "set reg FSTS 0x11")
        check(rc == 0 and '"access":"RW1C","note":"FSTS is RW1C: writing 1 clears IQE, PFO; 0 leaves a bit as it is"'
              in out, "set reg --json: access and note", out + err)
        rc, out, err = run("--write", "--force", "--yes", "-e",
                           'local t = iommu.target(); print(t:write_reg(0, "FSTS", 0x1))')
        check(out == "true\tFSTS is RW1C: writing 1 clears PFO; 0 leaves a bit as it is\n",
              "Lua t:write_reg FSTS: true and the note", out + err)
        with open(mem, "r+b") as f:
            f.seek(BASE + 0x34)
            f.write((2).to_bytes(4, "little"))

        # 5. debugfs shows, never changes
        p = subprocess.run([iommush, "debugfs", "-O", "debugfs.root=" + os.path.join(tmp, "debugfs"),
                            "-O", "acpi.dmar=", "-O", "write.log=" + log, "-O", "write.syslog=off",
                            "--write", "--force", "--yes", "-c", "set reg FECTL 0"],
                           capture_output=True, text=True, env=env)
        rc, err = p.returncode, p.stderr
        check(rc == 1 and "debugfs files show the driver's state and offer no way to change it" in err,
              "debugfs: refused with the reason", err)

        # 6. live delegates to devmem, or says why its choice cannot write
        lopts = ["-O", "kcore.path=/nonexistent/kcore", "-O", "debugfs.root=" + os.path.join(tmp, "debugfs")]
        rc, out, err = run("--write", "--force", "--yes", "-c", "set reg FECTL 0", target="live", extra=lopts)
        check(rc == 0 and word(mem, 0x38, 4) == 0, "live: set reg through devmem", out + err)
        rc, out, err = run("--write", "--force", "--yes", "-c", "set reg FECTL 0x80000000", target="live",
                           extra=lopts)
        check(rc == 0 and word(mem, 0x38, 4) == 0x80000000 and "backend=live" in logtext(),
              "live: writes through devmem and logs as live", out + err)
        opts_nodev = [o if not o.startswith("devmem.path=") else "devmem.path=/nonexistent/mem" for o in opts]
        p = subprocess.run([iommush, "live", *opts_nodev, *lopts, "--write", "--force", "--yes",
                            "-c", "set reg FECTL 0"], capture_output=True, text=True, env=env)
        check(p.returncode == 1 and "live chose debugfs: debugfs files show" in p.stderr,
              "live on debugfs: refused with debugfs's reason", p.stderr)

        # 7. Lua: the same gate
        chunk = 'local t = iommu.target(); print(t:write_reg(0, "FEDATA", 0x4000))'
        rc, out, err = run("--write", "--force", "-e", chunk)
        check(out.startswith("nil\t") and "refusing without --yes" in out and out.rstrip().endswith("refused")
              and word(mem, 0x38, 4) == 0x80000000, "Lua without --yes: refused", out + err)
        rc, out, err = run("--write", "--yes", "-e", chunk)
        check(out.startswith("nil\t") and "intel-iommu driver owns dmar0" in out,
              "Lua without --force: refused naming the driver", out + err)
        rc, out, err = run("--write", "--force", "--yes", "-e", chunk)
        check(out == "true\n" and word(mem, 0x3c, 4) == 0x4000, "Lua with --force --yes: written", out + err)
        rc, out, err = run("--write", "--force", "--yes", "-e",
                           "local t = iommu.target(); print(t:write64(0x7fe000, 0x1234))")
        check(out == "true\n" and word(mem, 0x7FE000 - BASE, 8) == 0x1234 and
              "op=\"memory write\" unit=- mem=0x7fe000 len=8 old=0000000000000000 new=3412000000000000 result=ok"
              in logtext(), "Lua memory write: written and logged", out + err)
        # a target a script opens itself: its own flags, the shell's question
        lua_open = ('local t = assert(iommu.open("devmem", {write = true, ["devmem.path"] = "%s", '
                    '["acpi.dmar"] = "%s", ["lockdown.path"] = "", ["iommu.sysfs"] = "%s", '
                    '["write.log"] = "%s", ["write.syslog"] = "off"%%s})); print(t:write_reg(0, "FECTL", 0))'
                    % (mem, os.path.join(src, "tests/fixtures/dmar/qemu72-q35-intremap.bin"),
                       os.path.join(tmp, "sys/class/iommu"), log))
        rc, out, err = run("-e", lua_open % "")
        check(out.startswith("nil\t") and "intel-iommu driver owns dmar0" in out, "iommu.open: owned, refused",
              out + err)
        rc, out, err = run("-e", lua_open % ", force = true")
        check(out.startswith("nil\t") and "refusing without --yes" in out,
              "iommu.open{force}: the shell's batch refusal", out + err)
        rc, out, err = run("-e", lua_open % ", force = true, yes = true")
        check(out == "true\n" and word(mem, 0x38, 4) == 0, "iommu.open{force, yes}: written", out + err)
        rc, out, err = run("-e", (lua_open % ", force = true, yes = true").replace(
            'print(t:write_reg(0, "FECTL", 0))', 'local i = t:info(); print(i.writable, i.force, i.yes)'))
        check(out == "true\ttrue\ttrue\n", "t:info() says the target is writable, forced, unasked",
              out + err)

        # 8. a person at a terminal
        spec = importlib.util.spec_from_file_location("ptytest", os.path.join(src, "tests/shell/pty-test.py"))
        ptytest = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(ptytest)
        penv = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "TERM": "xterm", "HOME": tmp,
                "IOMMUSH_HISTORY": os.path.join(tmp, "history"), "NO_COLOR": "1", "LC_ALL": "C",
                "INPUTRC": "/dev/null", "IOMMUSH_PLUGIN_PATH": ""}
        t = ptytest.Term([iommush, "devmem", *opts, "--write", "--force"], penv)
        check(t.expect(rb"WRITES ENABLED, FORCED"), "the banner says writes are forced")
        check(t.expect(rb"iommush> "), "the prompt appears")
        t.send("set pager off\r")
        check(t.expect(rb"iommush> "), "pager off")
        t.send("set reg FECTL 0x80000000\r")
        check(t.expect(rb"set reg FECTL writes to dmar0 of this live host \(devmem backend, devmem\)"),
              "the question names the operation and unit")
        check(t.expect(rb"owns dmar0 .*written because of --force"), "the question says the driver owns it")
        check(t.expect(rb"Go ahead\? \[y/N\] "), "asked")
        t.send("n\r")
        check(t.expect(rb"not written: set reg FECTL was not confirmed"), "'n' refuses")
        check(t.expect(rb"iommush> "), "prompt after 'n'")
        check(word(mem, 0x38, 4) == 0, "'n': nothing written")
        t.send("set reg FECTL 0x80000000\r")
        check(t.expect(rb"Go ahead\? \[y/N\] "), "asked again")
        t.send("y\r")
        check(t.expect(rb"FECTL \(0x38\) <- 0x80000000, reads back 0x80000000"), "'y' writes")
        check(t.expect(rb"iommush> "), "prompt after 'y'")
        check(word(mem, 0x38, 4) == 0x80000000, "'y': written to the file")
        # the driver's own queue: refused before any question, nothing written
        # (one question per invalidation is tests/unit/test_write.c's, on a free queue)
        start = len(t.buf)
        t.send("invalidate iotlb global --timeout 20\r")
        check(t.expect(rb"iommush never writes into this queue, even with --force"),
              "invalidate into the driver's queue is refused")
        check(t.expect(rb"iommush> "), "prompt after invalidate")
        check(t.buf[start:].count(b"Go ahead?") == 0, "invalidate: nobody asked",
              t.buf[start:].decode(errors="replace"))
        check(not re.findall(r'op="invalidate iotlb global" unit=dmar0 (?:mem|reg)=', logtext()) and
              word(mem, 0x88, 8) == 0x40, "invalidate: nothing written", logtext())
        t.send("quit\r")
        check(t.wait() == 0, "quit")
        # --yes at a terminal: no question
        t = ptytest.Term([iommush, "devmem", *opts, "--write", "--force", "--yes"], penv)
        check(t.expect(rb"iommush> "), "prompt (--yes)")
        start = len(t.buf)
        t.send("set reg FECTL 0\r")
        check(t.expect(rb"<- 0, reads back 0"), "--yes at a terminal: written")
        check(b"Go ahead" not in t.buf[start:], "--yes: not asked")
        t.send("quit\r")
        t.wait()

    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
