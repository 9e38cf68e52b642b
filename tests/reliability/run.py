#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The reliability suite: hostile inputs and backend faults, each with the
exact message or finding iommush must give and exit status 1 (a crash, a
signal, a hang or any sanitizer output fails the case).

Usage: run.py IOMMUSH [CASE-SUBSTRING...]

Inputs are built here (images.py) or served by a fake gdbstub
(fakestub.py); see README.md for the list and what each case found.
Standard library only. Prints one line per case and `N passed, N failed`.
"""
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, '..'))
import ishtest  # noqa: E402
from images import (BASE, CAP, ECAP, IRES, IRTPS, QIES, RTPS, TES, Image, dev_scope,  # noqa: E402
                    dmar_table, drhd, elf_core, unit_note)

TIMEOUT = 60
IOMMUSH = None
TMP = None
RESULTS = []
SANITIZER = ishtest.SANITIZER


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def input_files(argv):
    """Every existing file named by an argument: the target, -O x=FILE, a command's FILE."""
    found = []
    for a in argv[1:]:
        for w in a.replace("=", " ").split():
            if os.path.isfile(w) and w not in found:
                found.append(w)
    return found


def iommush(args, cmds=(), stdin=None, timeout=TIMEOUT):
    """Runs iommush; every input file it was given must be unchanged after."""
    argv = [IOMMUSH] + list(args)
    for c in cmds:
        argv += ["-c", c]
    env = dict(os.environ, NO_COLOR="1")
    before = {f: sha(f) for f in input_files(argv + (stdin or "").split())}
    p = subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=timeout,
                       env=env)
    for f, h in before.items():
        expect(sha(f) == h, "%s was modified by %s" % (f, " ".join(argv[1:])))
    return p.returncode, p.stdout, p.stderr


class Failed(Exception):
    pass


def expect(cond, what):
    if not cond:
        raise Failed(what)


def check_run(rc, out, err, status=1, err_lines=(), out_has=(), err_exact=None):
    """The common checks: no signal, no sanitizer report, status, messages."""
    expect(rc >= 0 and rc < 128, "killed by a signal or crashed: status %d" % rc)
    for s in SANITIZER:
        expect(s not in err, "sanitizer report: " + err[:400])
    expect(rc == status, "exit status %d, wanted %d; stderr: %s" % (rc, status, err[-600:]))
    lines = err.splitlines()
    for want in err_lines:
        expect(want in lines, "no stderr line %r in:\n%s" % (want, err[-1500:]))
    if err_exact is not None:
        expect(lines == list(err_exact), "stderr is:\n%s\nwanted:\n%s" %
               (err, "\n".join(err_exact)))
    for want in out_has:
        expect(want in out, "stdout lacks %r:\n%s" % (want, out[-1500:]))


def case(fn):
    RESULTS.append(fn)
    return fn


def files_unchanged(paths, body):
    """Runs body(); every file in paths must have the same sha256 after."""
    before = {p: sha(p) for p in paths}
    body()
    for p in paths:
        expect(sha(p) == before[p], "%s was modified" % p)


# ---------------------------------------------------------------- page tables

def cyclic(level):
    """A 4-level SL table whose level-`level` table points back at the root."""
    im = Image()
    sl = im.device()                       # 00:01.0
    im.map4k(sl, 0x200000, 0x80000000)
    t = sl
    for lv in range(4, level, -1):
        t = im.r64(t + ((0x200000 >> (12 + 9 * (lv - 1))) & 511) * 8) & ~0xfff
    im.w64(t + 8 * 5, sl | 3)              # entry 5 of that table -> the root table
    return im, sl, 5 << (12 + 9 * (level - 1))


for _lv in (4, 3, 2):
    def _mk(lv):
        def fn():
            im, sl, iova = cyclic(lv)
            args = im.write(TMP, "cyc%d" % lv)
            # The root table is revisited one level below the looping entry.
            want = ("iommush: mappings: warning: 00:01.0: cycle: sl-pte L%d table %#x[0] "
                    "address %#x (IOVA %#x): table page revisited on the current path"
                    % (lv - 1, sl, sl, iova))
            files_unchanged([args[0]], lambda: check_run(
                *iommush(args, ["mappings 00:01.0"]), err_exact=[want],
                out_has=["0x0000000000200000-0x0000000000200fff -> 0x000080000000     4K",
                         "1 ranges, 1 leaf entries, 4 table pages (with findings, see above)"]))
        fn.__name__ = "cycle-sl-level%d" % lv
        return fn
    case(_mk(_lv))


@case
def cycle_json_and_who_maps():
    # The same L3 cycle: --json keeps stdout one valid JSON list, the warning
    # goes to stderr; who-maps meets the cycle too and still finds the page.
    import json
    im, sl, iova = cyclic(3)
    args = im.write(TMP, "cycjson")
    rc, out, err = iommush(args + ["--json"], ["mappings 00:01.0"])
    check_run(rc, out, err)
    got = json.loads(out)
    expect([(m["iova"], m["hpa"], m["size"]) for m in got] == [(0x200000, 0x80000000, 0x1000)],
           "JSON mappings: %r" % got)
    expect(len(err.splitlines()) == 1 and ": cycle: sl-pte L2 table" in err, "stderr: " + err)
    rc, out, err = iommush(args, ["who-maps 0x80000000"])
    check_run(rc, out, err, out_has=["dmar0   00:01.0               IOVA 0x200000  in "],
              err_exact=["iommush: who-maps: warning: 00:01.0: cycle: sl-pte L2 table %#x[0] "
                         "address %#x (IOVA %#x): table page revisited on the current path"
                         % (sl, sl, iova)])


@case
def context_points_at_root():
    # The context entry's SLPTPTR is the root table: root entry 0 (CTP|P) is
    # read as an L4 entry leading to the context table, whose entry 16 (the
    # device's own context entry, R bit set) leads back to the root table.
    im = Image()
    ca = im.context_addr(0, 8)
    im.w64(ca, im.root | 1)
    im.w64(ca + 8, 2 | (1 << 8))
    args = im.write(TMP, "ctxroot")
    check_run(*iommush(args, ["mappings 00:01.0"]), err_exact=[
        "iommush: mappings: warning: 00:01.0: cycle: sl-pte L2 table 0x10000[0] address "
        "0x10000 (IOVA 0x400000000): table page revisited on the current path"])


@case
def context_table_is_root_table():
    # The root entry's CTP points at the root table itself: the context entry
    # of 00:00.0 is the root entry, AW 0 is no valid width -> fault 0x3.
    im = Image()
    im.w64(im.root, im.root | 1)
    args = im.write(TMP, "rootroot")
    check_run(*iommush(args, ["context 00:00.0"]), out_has=[
        "    problem: address width is not 39, 48 or 57 bits (qword 1 bits 0x7)",
        "=> fault 0x3 (Context entry programmed invalidly) at step 1"])


@case
def pasid_dir_points_at_itself():
    # Directory entry 1 (PASIDs 64..127) points at the directory: its entry 0
    # is read as a PASID entry, whose qwords are directory entries.
    im = Image(scalable=True)
    dv = im.sm_device()
    im.map4k(dv["sl"], 0x1000, 0x5000)
    im.w64(dv["dir"] + 8, dv["dir"] | 1)
    args = im.write(TMP, "pdself")
    check_run(*iommush(args, ["pasid 00:01.0 64"]), out_has=[
        "    problem: reserved bits set in PASID entry (qword 1 bits 0x10000)",
        "=> fault 0x5a (SM: reserved bits set in the PASID table entry) at step 3"])
    # RID_PASID still works: the walk of PASID 0 is not disturbed.
    check_run(*iommush(args, ["translate 00:01.0 0x1000"]), status=0,
              out_has=["  => HPA 0x5000 (4K page) R+ W+ X- U+"])


@case
def pasid_dir_in_mmio():
    im = Image(scalable=True)
    dv = im.sm_device()
    im.w64(dv["ctx"], BASE | (1 << 3) | 1)     # PASIDDIRPTR = the register block
    args = im.write(TMP, "pdmmio")
    check_run(*iommush(args, ["pasid 00:01.0"]), err_exact=[
        "iommush: pasid: warning: 00:01.0: outside: pasid-dir L0 table 0xfed90000[0] "
        "address 0xfed90000 (IOVA 0): table page is not readable: physical address "
        "0xfed90000 is not in the dump"])
    check_run(*iommush(args, ["translate 00:01.0 0x1000"]), status=0, out_has=[
        "  => fault 0x50 (SM: could not access the PASID directory entry) at step 2; "
        "0xfed90000 is not readable on this target"])


@case
def five_level_with_aw39():
    im = Image()
    im.device(levels=5)                    # AW=3: 57-bit, 5-level
    # CAP.SAGAW = 39-bit only (bit 1), MGAW = 38 (39 bits)
    im.regs["CAP"] = (CAP & ~(0x1f << 8) & ~(0x3f << 16)) | (0x2 << 8) | (38 << 16)
    args = im.write(TMP, "l5aw39")
    check_run(*iommush(args, ["context 00:01.0"]), out_has=[
        "    problem: AW=0x3 (57-bit, 5-level tables) is not in CAP.SAGAW=0x2",
        "=> fault 0x3 (Context entry programmed invalidly) at step 1"])


@case
def reserved_bits_root_context_pte():
    im = Image()
    sl = im.device()                                   # 00:01.0
    im.map4k(sl, 0x1000, 0x5000)
    pt = im.map4k(sl, 0x2000, 0x6000 | (1 << 50))      # SL PTE bits 51:48 reserved (MGAW 48)
    im.w64(im.root + 16, im.alloc() | 1)               # bus 1: upper qword reserved
    im.w64(im.root + 24, 1 << 40)
    ca = im.context_addr(0, 16)                        # 00:02.0: legacy context bit 5 reserved
    im.w64(ca, im.alloc() | 1 | (1 << 5))
    im.w64(ca + 8, 2 | (2 << 8))
    args = im.write(TMP, "rsvd")
    check_run(*iommush(args, ["mappings 00:01.0"]), err_exact=[
        "iommush: mappings: warning: 00:01.0: reserved: sl-pte L1 table %#x[2] entry "
        "0x4000000006003 bits 0x4000000000000 (IOVA 0x2000): reserved bits set in a present "
        "entry" % pt], out_has=["0x0000000000001000-0x0000000000001fff -> 0x000000005000"])
    check_run(*iommush(args, ["context 01:00.0"]), out_has=[
        "    problem: reserved bits set in root entry (qword 1 bits 0x10000000000)",
        "=> fault 0xa (Reserved bits set in a present root entry) at step 0"])
    rc, out, err = iommush(args, ["context 00:02.0"])
    check_run(rc, out, err, out_has=["=> fault 0xb"])
    check_run(*iommush(args, ["devices"]), err_exact=[
        "iommush: devices: warning: 01:00.0: reserved: root L0 table 0x10000[1] entry 0x16001 "
        "bits 0x10000000000 (IOVA 0): reserved bits set in root entry"])


@case
def reserved_bits_irte():
    im = Image()
    irt = im.alloc()
    im.regs["IRTA"] = irt | 7
    im.regs["GSTS"] |= IRES | IRTPS
    im.w64(irt, 1 | (0x30 << 16) | (1 << 12))          # low bits 14:12 reserved
    im.w64(irt + 8, 1 << 40)                           # high bits 63:20 reserved
    args = im.write(TMP, "irte-rsvd")
    check_run(*iommush(args, ["irte 0"]), out_has=[
        "IRTE 0: P+ FPD- remapped vector=0x30 dest=0 DM=physical RH- TM=edge DLM=fixed AVAIL=0 "
        "SID=00:00.0 SQ=all-bits SVT=none RESERVED-BITS lo=0x1000 hi=0x10000000000"])


@case
def walk_max_pages():
    d = os.path.join(TMP, "big")
    subprocess.run([sys.executable, os.path.join(HERE, "..", "gen", "mkimage.py"), d,
                    "--mappings", "20000"], check=True)
    img = os.path.join(d, "image.raw")
    files_unchanged([img], lambda: check_run(
        *iommush([img, "-O", "dump.regs=" + os.path.join(d, "regs.txt"), "-O",
                  "walk.max_pages=10"], ["mappings 00:01.0"]),
        err_exact=["iommush: mappings: more than 10 table pages (raise walk.max_pages)"]))


# ------------------------------------------------------------ IRT, IQ

@case
def irta_s15():
    im = Image(size=2 << 20)
    irt = im.alloc()
    im.regs["IRTA"] = irt | 15
    im.regs["GSTS"] |= IRES | IRTPS
    im.w64(irt + 16 * 3, 1 | (0x31 << 16))
    im.w64(irt + 16 * 3 + 8, 1 << 18)
    args = im.write(TMP, "irta15")
    check_run(*iommush(args, ["irte 65536"]), err_exact=[
        "iommush: irte: dmar0: IRTE 65536 is beyond the table (65536 entries)"],
        out_has=["dmar0: IRTA=%#x table=%#x S=15 (65536 entries) EIME- IRES+ CFIS-"
                 % (irt | 15, irt)])
    check_run(*iommush(args, ["irte all"]), status=0, out_has=[
        "IRTE 3: P+ FPD- remapped vector=0x31 dest=0 DM=physical RH- TM=edge DLM=fixed "
        "AVAIL=0 SID=00:00.0 SQ=all-bits SVT=requester-id"])


@case
def irta_past_memory():
    im = Image(size=1 << 20)
    irt = 0xf0000                       # 65536 entries x 16 bytes = 1 MiB: runs past 1 MiB
    im.regs["IRTA"] = irt | 15
    im.regs["GSTS"] |= IRES | IRTPS
    im.w64(irt + 16 * 3, 1 | (0x31 << 16))
    im.w64(irt + 16 * 3 + 8, 1 << 18)
    args = im.write(TMP, "irtapast")
    check_run(*iommush(args, ["irte all"]), err_exact=[
        "iommush: irte: dmar0: listing stopped: IRTE 4096 at 0x100000: physical address "
        "0x100000 is not in the dump"], out_has=["IRTE 3: P+"])


@case
def iqa_past_memory():
    im = Image(size=1 << 20)
    iq = 0xff000                        # QS=7: 512 KiB from the last page
    im.regs["IQA"] = iq | 7
    im.regs["GSTS"] |= QIES
    im.regs["IQT"] = 1 << 4             # one pending descriptor
    im.w64(iq, 2 | (1 << 4))            # IOTLB invalidate, global
    args = im.write(TMP, "iqpast")
    check_run(*iommush(args, ["iq"]), err_exact=[
        "iommush: iq: dmar0: descriptor 32760 at 0x17ef80: physical address 0x17ef80 is not "
        "in the dump"], out_has=["IQA=0xff007 base=0xff000 QS=7 (512 KiB)",
                                 "  [0] iotlb global did=0 addr=0 am=0 ih- dr- dw-"])


# ------------------------------------------------------------------- DMAR

def dmar_case(name, data, message):
    def fn():
        p = os.path.join(TMP, name + ".dmar")
        with open(p, "wb") as f:
            f.write(data)
        files_unchanged([p], lambda: check_run(*iommush([], ["dmar " + p]),
                                               err_exact=["iommush: dmar: " + message]))
    fn.__name__ = name
    case(fn)


dmar_case("dmar-structure-length-0", dmar_table([drhd(length=0)]),
          "malformed DMAR table at offset 0x30: structure length 0 is shorter than its "
          "header (4)")
dmar_case("dmar-structure-past-end", dmar_table([drhd(length=200)]),
          "malformed DMAR table at offset 0x30: structure length 200 runs past the end of the "
          "table (64)")
dmar_case("dmar-scope-length-lies", dmar_table([drhd(scopes=dev_scope(1, 0, [(1, 0)],
                                                                      length=30))]),
          "malformed DMAR table at offset 0x40: device scope length 30 runs past the end of "
          "DRHD at 0x30")
dmar_case("dmar-scope-length-0", dmar_table([drhd(scopes=dev_scope(1, 0, [(1, 0)],
                                                                   length=0))]),
          "malformed DMAR table at offset 0x40: device scope length 0 is shorter than its "
          "header (6)")
dmar_case("dmar-table-length-lies", dmar_table([drhd()], length=4000),
          "malformed DMAR table at offset 0x4: table length 4000 runs past the 64 bytes "
          "available")


# -------------------------------------------------------------------- ELF

def elf_image():
    im = Image(size=0x40000)
    sl = im.device()                               # 00:01.0, tables below 0x20000
    im.map4k(sl, 0x1000, 0x5000)
    im.next = 0x30000
    sl2 = im.device(devfn=16)                      # 00:02.0, tables at 0x30000
    im.map4k(sl2, 0x1000, 0x6000)
    regs = {0: (32, 0x10), 8: (64, CAP), 0x10: (64, ECAP), 0x1c: (32, TES | RTPS),
            0x20: (64, im.root)}
    return bytes(im.mem), unit_note(regs)


@case
def elf_overlapping_loads():
    mem, notes = elf_image()
    p = os.path.join(TMP, "overlap.elf")
    elf_core(p, [(0, mem, None), (0x11000, bytes(0x2000), None)], notes)
    files_unchanged([p], lambda: check_run(*iommush([p], ["units"]), err_exact=[
        "iommush: %s: PT_LOAD 2 [0x11000-0x12fff] overlaps PT_LOAD 1 [0-0x3ffff] with "
        "different contents" % p]))


@case
def elf_truncated():
    mem, notes = elf_image()
    p = os.path.join(TMP, "trunc.elf")
    elf_core(p, [(0, mem[:0x20000], None), (0x20000, mem[0x20000:], None)], notes)
    os.truncate(p, os.path.getsize(p) - 0x10000)   # 0x30000.. is gone
    def body():
        rc, out, err = iommush([p], ["mappings 00:01.0", "echo intact"])
        check_run(rc, out, err, status=0, out_has=[
            "0x0000000000001000-0x0000000000001fff -> 0x000000005000     4K", "intact"])
        check_run(*iommush([p], ["mappings 00:02.0"]), err_exact=[
            "iommush: mappings: warning: 00:02.0: outside: sl-pte L4 table 0x30000[0] "
            "address 0x30000 (IOVA 0): table page is not readable: the dump is truncated: "
            "physical address 0x30000 (PT_LOAD 2, file offset 0x31000) lies past the end of "
            "the file (200704 bytes)"])
        check_run(*iommush([p], ["lua print(select(2, iommu.target():read(0x30000, 8)))"]),
                  status=0, out_has=[
            "the dump is truncated: physical address 0x30000 (PT_LOAD 2, file offset 0x31000) "
            "lies past the end of the file (%d bytes)" % os.path.getsize(p)])
    files_unchanged([p], body)


@case
def elf_shrinks_while_open():
    # The dump is cut short between two commands of one session (a copy
    # still being written, another process truncating it): the next walk
    # reads past the new end and says so (status 1); no SIGBUS.
    mem, notes = elf_image()
    p = os.path.join(TMP, "shrinks.elf")
    elf_core(p, [(0, mem[:0x20000], None), (0x20000, mem[0x20000:], None)], notes)
    size = os.path.getsize(p)
    cut = size - 0x10000
    with open(p, "rb") as f:
        want = hashlib.sha256(f.read(cut)).hexdigest()   # what the truncate leaves, and nothing else
    argv = [IOMMUSH, p, "-c", "mappings 00:01.0",
            "-c", "lua os.execute('truncate -s %d %s')" % (cut, p),
            "-c", "mappings 00:02.0"]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT,
                       env=dict(os.environ, NO_COLOR="1"))
    expect(os.path.getsize(p) == cut, "the file was not truncated mid-session")
    expect(sha(p) == want, "the file holds other bytes than the truncate left")
    check_run(r.returncode, r.stdout, r.stderr, out_has=[
        "0x0000000000001000-0x0000000000001fff -> 0x000000005000     4K",
        "0 ranges, 0 leaf entries, 1 table pages (with findings, see above)"],
        err_exact=[
        "iommush: mappings: warning: 00:02.0: outside: sl-pte L4 table 0x30000[0] "
        "address 0x30000 (IOVA 0): table page is not readable: the dump shrank while open: "
        "physical address 0x30000 (PT_LOAD 2, file offset 0x31000) lies past its end, now "
        "%d bytes (%d when opened)" % (cut, size)])


@case
def snapshot_lying_dmar_note():
    # A snapshot whose DMAR note has a structure length past its end: the
    # target opens (units come from the unit notes), `dmar` names the offset.
    from images import note
    mem, notes = elf_image()
    p = os.path.join(TMP, "baddmar.elf")
    elf_core(p, [(0, mem, None)], notes + note("IOMMUSH", 3, dmar_table([drhd(length=200)])))
    check_run(*iommush([p], ["units", "mappings 00:01.0"]), status=0, out_has=[
        "dmar0   0000 0xfed90000         1.0    enabled   legacy",
        "0x0000000000001000-0x0000000000001fff -> 0x000000005000     4K"])
    check_run(*iommush([p], ["dmar"]), err_exact=[
        "iommush: dmar: malformed DMAR table at offset 0x30: structure length 200 runs past "
        "the end of the table (64)"])


@case
def elf_truncated_header():
    p = os.path.join(TMP, "hdr.elf")
    elf_core(p, [(0, bytes(0x1000), None)], truncate_to=30)
    files_unchanged([p], lambda: check_run(*iommush([p], ["units"]), err_exact=[
        "iommush: %s: not a valid ELF file: no complete ELF header" % p]))


# ----------------------------------------------------------- fake gdbstub

class FakeStub:
    def __init__(self, name, image, regs, *opts):
        self.sock = os.path.join(TMP, name + ".sock")
        self.log = os.path.join(TMP, name + ".log")
        self.p = subprocess.Popen([sys.executable, os.path.join(HERE, "fakestub.py"),
                                   self.sock, image, regs, "--log", self.log] + list(opts))
        deadline = time.time() + 20
        while not os.path.exists(self.sock):
            expect(time.time() < deadline and self.p.poll() is None, "fake stub did not start")
            time.sleep(0.05)
        self.target = "gdb:unix:" + self.sock

    def packets(self):
        with open(self.log) as f:
            return [l.rstrip("\n").split(" ", 1) for l in f]

    def stop(self):
        self.p.terminate()
        self.p.wait()


def big_image():
    d = os.path.join(TMP, "stubimg")
    if not os.path.exists(d):
        subprocess.run([sys.executable, os.path.join(HERE, "..", "gen", "mkimage.py"), d,
                        "--mappings", "20000"], check=True)
    return os.path.join(d, "image.raw"), os.path.join(d, "regs.txt")


GDB = ["-O", "gdbstub.regbase=%#x" % BASE, "-O", "gdbstub.timeout=5"]
SESSION = ("mappings 00:01.0\necho alive\nopen %s\n"
           "mappings 00:01.0 0x100000000+0x2000\n")


def peer_fault(name, opt, message):
    def fn():
        img, regs = big_image()
        stub = FakeStub(name, img, regs, *opt)
        try:
            rc, out, err = iommush([stub.target] + GDB, stdin=SESSION % stub.target)
        finally:
            stub.stop()
        check_run(rc, out, err, err_exact=["iommush: mappings: " + message], out_has=[
            "alive\n%s: gdbstub backend, 1 unit\n" % stub.target,
            "0x0000000100000000-0x0000000100000fff -> 0x004000000000     4K (4K pages) R+ W+ X-\n"
            "0x0000000100001000-0x0000000100001fff -> 0x004000002000     4K (4K pages) R+ W+ X-\n"
            "2 ranges, 2 leaf entries, 4 table pages\n"])
        expect(not any(p[1].startswith("M") for p in stub.packets()), "an M packet was sent")
    fn.__name__ = name
    case(fn)


peer_fault("gdbstub-peer-dies-mid-mappings", ["--die-after", "40"],
           "the gdbstub closed the connection")
peer_fault("gdbstub-bad-checksum", ["--bad-checksum", "30"],
           "9 gdbstub packets in a row with bad checksums")
peer_fault("gdbstub-garbage-reply", ["--garbage", "30"],
           "gdbstub read reply is not hex at character 0")


@case
def gdbstub_units_after_peer_died():
    # `units` after the peer hung up: the '?' columns come with the reason.
    img, regs = big_image()
    stub = FakeStub("deadunits", img, regs, "--die-after", "40")
    try:
        rc, out, err = iommush([stub.target] + GDB, stdin="mappings 00:01.0\nunits\n")
    finally:
        stub.stop()
    check_run(rc, out, err, err_exact=[
        "iommush: mappings: the gdbstub closed the connection",
        "iommush: units: dmar0: gdbstub connection lost after an earlier error"],
        out_has=["dmar0   0000 0xfed90000         ?      ?         ?"])


@case
def gdbstub_no_write_without_write_mode():
    img, regs = big_image()
    stub = FakeStub("nowrite", img, regs)
    try:
        cmds = ["set reg dmar0 FECTL 0", "invalidate iotlb global", "mappings 00:01.0 0x100000000"]
        for c in cmds:
            rc, out, err = iommush([stub.target] + GDB, [c])
            expect(rc < 128, "signal on %r" % c)
        expect(not any(p[1].startswith("M") for p in stub.packets()),
               "an M packet reached the stub without --write")
        rc, out, err = iommush([stub.target, "--write"] + GDB, ["set reg dmar0 FECTL 0"])
    finally:
        stub.stop()
    expect(any(p[1].startswith("Mfed90038,4:") for p in stub.packets()),
           "with --write, the FECTL write did not arrive (rc %d: %s)" % (rc, err.strip()))


@case
def snapshot_interrupted():
    img, regs = big_image()
    stub = FakeStub("snapint", img, regs, "--delay", "0.02")
    out = os.path.join(TMP, "interrupted.snapshot")
    try:
        p = subprocess.Popen([IOMMUSH, stub.target] + GDB, stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        p.stdin.write("snapshot %s\necho alive\n" % out)
        p.stdin.flush()
        # A full capture is ~210 packets (~4 s at this delay): stop it at 60.
        deadline = time.time() + TIMEOUT
        while len(stub.packets()) < 60 and time.time() < deadline:
            time.sleep(0.02)
        p.send_signal(signal.SIGINT)
        o, e = p.communicate(timeout=TIMEOUT)
    finally:
        stub.stop()
    check_run(p.returncode, o, e, out_has=["alive"])
    expect(e.splitlines() == ["iommush: snapshot: %s: interrupted" % out], "stderr: " + e)
    expect(not os.path.exists(out), "a snapshot file was left")
    expect(not os.path.exists(out + ".tmp"), "a .tmp file was left")


@case
def snapshot_not_modified():
    # Taking a snapshot does not touch its source; opening and walking the
    # snapshot does not touch the snapshot.
    img, regs = big_image()
    snap = os.path.join(TMP, "ok.snapshot")
    files_unchanged([img, regs], lambda: check_run(
        *iommush([img, "-O", "dump.regs=" + regs], ["snapshot " + snap]), status=0))
    files_unchanged([snap], lambda: check_run(
        *iommush([snap], ["mappings 00:01.0 0x100000000+0x1000", "devices"]),
        status=0, out_has=["0x0000000100000000-0x0000000100000fff -> 0x004000000000"]))


def main():
    global IOMMUSH, TMP
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    IOMMUSH = os.path.abspath(sys.argv[1])
    only = sys.argv[2:]
    TMP = tempfile.mkdtemp(prefix="ish-reliability-")
    passed = failed = 0
    try:
        for fn in RESULTS:
            name = fn.__name__.replace("_", "-")
            if only and not any(o in name for o in only):
                continue
            t0 = time.time()
            try:
                fn()
                print("ok     %-40s %.1fs" % (name, time.time() - t0), flush=True)
                passed += 1
            except (Failed, subprocess.TimeoutExpired, AssertionError) as e:
                print("FAILED %-40s %s" % (name, e), flush=True)
                failed += 1
    finally:
        shutil.rmtree(TMP, ignore_errors=True)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
