#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Golden test: iommush against QEMU's own translation trace.

  test_golden.py IOMMUSH DIR [--capture MODE [--fresh]] [--corrupt KIND] [--self-test]

DIR holds a capture from `lab.py capture` (memory.elf, regs.txt,
trace.log).  With --capture MODE and no memory.elf in DIR, the capture is
made first.  QEMU logged every IOTLB fill as

  vtd_iotlb_page_update IOTLB page update sid 0x.. iova 0x.. slpte 0x.. domain 0x..

followed by `vtd_dmar_translate dev BB:DD.FF iova 0x.. -> gpa 0x.. mask 0x..`
(the page size), so for each fill we know what the hardware model answered.

Which traced mappings are still present in the dump (the rule; nothing in
it asks iommush):
  1. it is the last fill the trace shows for that (source-id, page);
  2. no later invalidation in the trace covers it: a page-selective IOTLB
     invalidation of its domain whose range overlaps the page, a
     domain-selective one of its domain, a global one, or any context-cache
     or PASID-cache invalidation (counted as global: conservative).  The lab
     runs QEMU with caching-mode=on, under which Linux 6.1 flushes every
     unmap at once, so an unmapped page always has a later invalidation;
  3. an independent walk of the dump (vtdwalk.py, a few dozen lines that
     read the core and regs.txt directly) reaches a leaf entry whose eight
     bytes are identical to the traced slpte, at a page size equal to the
     traced mask.
For each such mapping iommush must translate the traced IOVA and the last
byte of its page to (slpte address bits, masked to the page size) + offset,
with QEMU's domain id, page size and R/W where its JSON gives "did",
"page_size", "read", "write",
reading with --write when the entry is write-only; a read of a write-only
entry must fault; and `mappings BDF` must list the IOVA with the same HPA.

Interrupt remapping: QEMU logs the 16 bytes of every IRTE it uses
(vtd_ir_irte_get) and its decode (vtd_ir_remap: trigger, vector, delivery
mode, destination, destination mode).  For the last use of each index whose
16 bytes are still identical in the dump, `irte N` must show the same.

Invalidation queue: QEMU logs the slot it fetches (vtd_inv_qi_head), the
descriptor's low 128 bits (vtd_inv_desc) and its decode (IOTLB domain, addr,
mask; wait-descriptor status address and data).  For every slot still
holding the bytes QEMU last fetched from it (the descriptor width, 16 or 32
bytes, is the one that puts them there), `iq --all` must show the same raw
words, type and fields.

--corrupt gives iommush (only) a damaged copy of the input: RTADDR moved by
one page, one present leaf PTE pointing one page off, IRTA or IQA moved by
one page; the check must then fail.  --self-test runs all four after the real
check and requires each to get translations (IRTEs, descriptors) wrong,
and requires a fixture cut from the capture (lab.py fixture: only the VT-d
table pages) and iommush's own `snapshot` of the dump to answer exactly like
the full dump.

Exit status: 0 pass, 1 fail, 77 skip (QEMU or the guest kernel cannot be had).
"""

import argparse
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import vtdwalk  # noqa: E402

SKIP = 77
MIN_PRESENT = 5  # fewer still-present mappings proves too little
ADDR_MASK = ((1 << 52) - 1) & ~0xfff  # second-level PTE bits 51:12
BATCH = 150  # -c commands per iommush run

RE_PREFIX = r"^(?:\d+@[\d.]+:)?"
RE_UPDATE = re.compile(RE_PREFIX + r"vtd_iotlb_page_update\b.*?sid 0x([0-9a-f]+) iova 0x([0-9a-f]+) "
               r"slpte 0x([0-9a-f]+) domain 0x([0-9a-f]+)")
RE_XLATE = re.compile(RE_PREFIX + r"vtd_dmar_translate\b.*?dev ([0-9a-f]+):([0-9a-f]+)\.([0-9a-f]+) "
              r"iova 0x([0-9a-f]+) -> gpa 0x([0-9a-f]+) mask 0x([0-9a-f]+)")
RE_INV_PAGES = re.compile(RE_PREFIX + r"vtd_inv_desc_iotlb_pages\b.*?domain 0x([0-9a-f]+) "
              r"addr 0x([0-9a-f]+) mask 0x([0-9a-f]+)")
RE_INV_DOMAIN = re.compile(RE_PREFIX + r"vtd_inv_desc_iotlb_domain\b.*?domain 0x([0-9a-f]+)")
# QEMU prints the IRTE's upper quadword as "low" and the lower as "high".
RE_IRTE_GET = re.compile(RE_PREFIX + r"vtd_ir_irte_get\b.*?index (\d+) low 0x([0-9a-f]+) "
             r"high 0x([0-9a-f]+)")
RE_IR_REMAP = re.compile(RE_PREFIX + r"vtd_ir_remap\b.*?index (\d+) trigger (\d+) vector (\d+) "
             r"deliver (\d+) dest 0x([0-9a-f]+) mode (\d+)")
RE_QI_HEAD = re.compile(RE_PREFIX + r"vtd_inv_qi_head\b.*?head (\d+)")
RE_QI_DESC = re.compile(RE_PREFIX + r"vtd_inv_desc\b.*?type ([a-z-]+) high 0x([0-9a-f]+) "
            r"low 0x([0-9a-f]+)")
RE_QI_WAIT = re.compile(RE_PREFIX + r"vtd_inv_desc_wait_sw\b.*?addr 0x([0-9a-f]+) "
            r"data 0x([0-9a-f]+)")
# Anything else that drops cached translations is taken as global.
RE_INV_OTHER = re.compile(RE_PREFIX + r"vtd_(inv_desc_(iotlb|cc|pc|piotlb)\w*|iotlb_reset|"
              r"context_cache_reset|pasid_cache\w*)\b")


class Fill:
    __slots__ = ("line", "sid", "iova", "slpte", "domain", "size", "gpa")

    def __init__(self, line, sid, iova, slpte, domain):
        self.line, self.sid, self.iova = line, sid, iova
        self.slpte, self.domain = slpte, domain
        self.size = None
        self.gpa = None

    def bdf(self):
        return "%02x:%02x.%x" % (self.sid >> 8, (self.sid >> 3) & 0x1f, self.sid & 7)

    def page(self):
        return self.iova & ~(self.size - 1)

    def hpa(self, iova):
        return (self.slpte & ADDR_MASK & ~(self.size - 1)) + (iova & (self.size - 1))


class Irte:
    """One IRTE as QEMU read it (bytes) and decoded it (vtd_ir_remap)."""

    def __init__(self, line, index, qw0, qw1):
        self.line, self.index, self.qw0, self.qw1 = line, index, qw0, qw1
        self.decoded = None


class QiDesc:
    """One invalidation descriptor as QEMU fetched (slot, raw) and decoded it."""

    def __init__(self, line, slot, name, qw0, qw1):
        self.line, self.slot, self.name, self.qw0, self.qw1 = line, slot, name, qw0, qw1
        self.decoded = {}


def parse_trace(path):
    """-> (fills in order, invalidations [(line, kind, domain, lo, hi)],
    {IRTE index: its last read, decoded}, {queue slot: last descriptor})."""
    fills = []
    invs = []
    irtes = {}
    irte_get = None
    qis = {}
    qi_head = None
    qi_last = None
    pending = []  # fills waiting for their vtd_dmar_translate line
    with open(path, errors="replace") as f:
        for n, line in enumerate(f):
            m = RE_UPDATE.match(line)
            if m:
                sid, iova, slpte, dom = (int(x, 16) for x in m.groups())
                fl = Fill(n, sid, iova, slpte, dom)
                fills.append(fl)
                pending.append(fl)
                continue
            m = RE_XLATE.match(line)
            if m:
                b, d, fn, iova, gpa, mask = (int(x, 16) for x in m.groups())
                sid = (b << 8) | (d << 3) | fn
                for fl in pending:
                    if fl.sid == sid and fl.iova & ~mask == iova & ~mask \
                       and fl.size is None:
                        fl.size = mask + 1
                        fl.gpa = gpa & ~mask
                        pending.remove(fl)
                        break
                # a fill is answered within a few lines; forget old ones
                pending = [p for p in pending if n - p.line < 64]
                continue
            m = RE_QI_HEAD.match(line)
            if m:
                qi_head = int(m.group(1))
                continue
            m = RE_QI_DESC.match(line)
            if m:
                qi_last = None
                if qi_head is not None:
                    qi_last = QiDesc(n, qi_head, m.group(1), int(m.group(3), 16),
                             int(m.group(2), 16))
                    qis[qi_head] = qi_last
                qi_head = None
                continue
            m = RE_QI_WAIT.match(line)
            if m:
                if qi_last and qi_last.name == "wait":
                    qi_last.decoded = {"addr": int(m.group(1), 16),
                               "data": int(m.group(2), 16)}
                continue
            m = RE_INV_PAGES.match(line)
            if m:
                dom, addr, am = (int(x, 16) for x in m.groups())
                invs.append((n, "pages", dom, addr, addr + (4096 << am)))
                if qi_last and qi_last.name == "iotlb":
                    qi_last.decoded = {"did": dom, "addr": addr, "am": am}
                continue
            m = RE_INV_DOMAIN.match(line)
            if m:
                invs.append((n, "domain", int(m.group(1), 16), 0, 1 << 64))
                if qi_last and qi_last.name == "iotlb":
                    qi_last.decoded = {"did": int(m.group(1), 16)}
                continue
            m = RE_IRTE_GET.match(line)
            if m:
                irte_get = Irte(n, int(m.group(1)), int(m.group(3), 16),
                        int(m.group(2), 16))
                continue
            m = RE_IR_REMAP.match(line)
            if m:
                idx, trig, vec, dlm, dest, dm = (int(x, 16 if i == 4 else 10)
                                 for i, x in enumerate(m.groups()))
                if irte_get and irte_get.index == idx and n - irte_get.line < 8:
                    irte_get.decoded = {"tm": bool(trig), "vector": vec, "dlm": dlm,
                                "dest": dest, "dm": bool(dm)}
                    irtes[idx] = irte_get
                irte_get = None
                continue
            if RE_INV_OTHER.match(line):
                invs.append((n, "global", None, 0, 1 << 64))
    return fills, invs, irtes, qis


def live_fills(fills, invs):
    """Rules 1 and 2: the last fill of each (sid, page), not invalidated since."""
    last = {}
    for fl in fills:
        if fl.size is None or fl.size & (fl.size - 1):
            continue
        last[(fl.sid, fl.page())] = fl
    # a fill is live unless an invalidation after it covers it
    out = []
    for fl in sorted(last.values(), key=lambda x: x.line):
        lo, hi = fl.page(), fl.page() + fl.size
        dead = False
        for (n, kind, dom, a, b) in invs:
            if n <= fl.line:
                continue
            if kind == "global" or (dom == fl.domain and a < hi and lo < b):
                dead = True
                break
        if not dead:
            out.append(fl)
    return out


def iter_json(text):
    dec = json.JSONDecoder()
    i = 0
    out = []
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text):
            return out
        v, i = dec.raw_decode(text, i)
        out.append(v)


class Iommush:
    def __init__(self, exe, mem, regs):
        self.base = [exe, "--json"] + (["-O", "dump.regs=" + regs] if regs else [])
        self.mem = mem
        self.runs = 0
        self.sanitizer = []  # sanitizer reports seen on stderr

    def _run(self, cmds):
        argv = list(self.base)
        for c in cmds:
            argv += ["-c", c]
        argv.append(self.mem)
        self.runs += 1
        try:
            p = subprocess.run(argv, capture_output=True, text=True, timeout=300)
        except subprocess.TimeoutExpired:
            return 1, [], "timed out"
        m = re.search(r"^.*(runtime error:|Sanitizer).*$", p.stderr, re.M)
        if m:
            self.sanitizer.append(m.group(0).strip())
        try:
            vals = iter_json(p.stdout)
        except ValueError as e:
            return 1, [], "unparsable JSON (%s): %r" % (e, p.stdout[:200])
        return p.returncode, vals, p.stderr.strip()

    def run(self, cmds):
        """One result per command: (value or None, stderr text)."""
        res = []
        for i in range(0, len(cmds), BATCH):
            chunk = cmds[i:i + BATCH]
            rc, vals, err = self._run(chunk)
            if rc == 0 and len(vals) == len(chunk):
                res += [(v, "") for v in vals]
                continue
            # -c stops at the first failing command: run them one by one
            for c in chunk:
                rc, vals, err = self._run([c])
                res.append((vals[0] if len(vals) == 1 else None,
                        err or "exit %d" % rc))
        return res


def check_irte(cmd, e, val, err):
    """irte N --json against QEMU's own decode of the same 16 bytes."""
    entry = None
    for unit in val if isinstance(val, list) else []:
        for x in (unit.get("irtes") or []) if isinstance(unit, dict) else []:
            if isinstance(x, dict) and x.get("index") == e.index:
                entry = x
    if entry is None:
        return ["%s: entry %d not in the JSON (%s)" % (cmd, e.index, err or "")]
    bad = []
    if entry.get("lo") != e.qw0 or entry.get("hi") != e.qw1:
        bad.append("raw 0x%016x%016x, QEMU read 0x%016x%016x"
               % (entry.get("hi") or 0, entry.get("lo") or 0, e.qw1, e.qw0))
    if entry.get("present") is not True:
        bad.append("not present")
    for k, v in sorted(e.decoded.items()):
        if entry.get(k) != v:
            bad.append("%s=%s, QEMU: %s" % (k, json.dumps(entry.get(k)), v))
    return ["%s: %s" % (cmd, "; ".join(bad))] if bad else []


QI_TYPES = {"context-cache": 1, "iotlb": 2, "device-tlb": 3, "iec": 4, "wait": 5}


def check_iq(cmd, qis, val, err):
    """iq --all --json against the descriptors QEMU fetched from each slot."""
    descs = {}
    for unit in val if isinstance(val, list) else []:
        for x in (unit.get("descriptors") or []) if isinstance(unit, dict) else []:
            if isinstance(x, dict) and x.get("where", "slot") == "slot" \
               and isinstance(x.get("slot"), int):
                descs[x["slot"]] = x
    bad = []
    for q in qis:
        x = descs.get(q.slot)
        if x is None:
            bad.append("%s: slot %d missing (%s)" % (cmd, q.slot, err or "no such slot"))
            continue
        why = []
        qw = x.get("qw") or []
        if qw[:2] != [q.qw0, q.qw1]:
            why.append("qw %s, QEMU fetched [%d, %d]" % (qw[:2], q.qw0, q.qw1))
        if q.name in QI_TYPES and x.get("type") != QI_TYPES[q.name]:
            why.append("type %s, QEMU: %s" % (x.get("type"), q.name))
        text = x.get("text") or ""
        for k, v in sorted(q.decoded.items()):
            m = re.search(r"\b%s=(0x[0-9a-f]+|\d+)\b" % k, text)
            got = x.get(k, int(m.group(1), 0) if m else None)
            if got != v:
                why.append("%s=%s, QEMU: 0x%x"
                       % (k, "0x%x" % got if isinstance(got, int) else got, v))
        if why:
            bad.append("%s: slot %d: %s" % (cmd, q.slot, "; ".join(why)))
    return bad


def corrupt(kind, d, tmp, fills_present):
    """A damaged copy of the capture for iommush only -> (memory, regs)."""
    mem, regs = os.path.join(d, "memory.elf"), os.path.join(d, "regs.txt")
    if kind in ("rtaddr", "irta", "iqa"):
        reg = {"rtaddr": vtdwalk.RTADDR, "irta": vtdwalk.IRTA, "iqa": vtdwalk.IQA}[kind]
        out = os.path.join(tmp, "regs.txt")
        with open(regs) as f, open(out, "w") as g:
            for line in f:
                m = re.match(r"\s*0x([0-9a-f]+)(:64)?\s*=\s*0x([0-9a-f]+)", line)
                if m and int(m.group(1), 16) == reg:
                    v = int(m.group(3), 16) + 0x1000
                    line = "0x%03x%s = 0x%x\n" % (reg, m.group(2) or "", v)
                g.write(line)
        return mem, out
    out = os.path.join(tmp, "memory.elf")
    shutil.copyfile(mem, out)
    core = vtdwalk.Core(mem)
    walker = vtdwalk.Walker(core, vtdwalk.read_regs(regs))
    fl = fills_present[0]
    addr, pte, size = walker.leaf(fl.sid >> 8, fl.sid & 0xff, fl.iova)
    for pa, filesz, off in core.loads:
        if pa <= addr < pa + filesz:
            with open(out, "r+b") as f:
                f.seek(off + addr - pa)
                f.write(struct.pack("<Q", pte ^ size))
    core.close()
    print("corrupt: PTE at 0x%x for %s iova 0x%x now 0x%x"
          % (addr, fl.bdf(), fl.iova, pte ^ size))
    return out, regs


def analyse(d):
    """-> (still-present fills, problems), by the rule in the module text."""
    fills, invs, irtes, qis = parse_trace(os.path.join(d, "trace.log"))
    live = live_fills(fills, invs)
    core = vtdwalk.Core(os.path.join(d, "memory.elf"))
    regs = vtdwalk.read_regs(os.path.join(d, "regs.txt"))
    walker = vtdwalk.Walker(core, regs)
    # IRTEs: QEMU's decode counts while the entry's 16 bytes are unchanged
    irt = regs.get(vtdwalk.IRTA, 0) & ~0xfff & ((1 << 52) - 1)
    irte_present = []
    for idx in sorted(irtes):
        e = irtes[idx]
        raw = core.read(irt + 16 * idx, 16) if irt else None
        if raw is not None and struct.unpack("<QQ", raw) == (e.qw0, e.qw1):
            irte_present.append(e)
    present = []
    problems = []
    unconfirmed = 0
    for fl in live:
        leaf = walker.leaf(fl.sid >> 8, fl.sid & 0xff, fl.iova)
        if leaf is None or leaf[1] != fl.slpte:
            unconfirmed += 1
            continue
        if leaf[2] != fl.size:
            problems.append("%s iova 0x%x: trace says page size 0x%x, the dump's tables 0x%x"
                    % (fl.bdf(), fl.iova, fl.size, leaf[2]))
            continue
        if fl.gpa != fl.hpa(fl.page()):
            problems.append("%s iova 0x%x: trace gpa 0x%x disagrees with its slpte 0x%x"
                    % (fl.bdf(), fl.iova, fl.gpa, fl.slpte))
            continue
        present.append(fl)
    print("trace: %d fills, %d invalidations; %d (sid, page) not invalidated since, "
          "%d of them with the traced leaf byte-identical in the dump"
          % (len(fills), len(invs), len(live), len(present)))
    if unconfirmed:
        print("note: %d not confirmed by the dump (changed since, without a traced flush)"
              % unconfirmed)
    print("trace: %d IRTEs remapped, %d of them byte-identical in the dump"
          % (len(irtes), len(irte_present)))
    qi_present = []
    iq = regs.get(vtdwalk.IQA, 0) & ~0xfff & ((1 << 52) - 1)
    if iq:
        # the descriptor width is whichever puts the traced bytes where
        # QEMU said it fetched them (QEMU 7.2 hides IQA.DW in scalable mode)
        for width in (16, 32):
            hits = []
            for slot in sorted(qis):
                q = qis[slot]
                raw = core.read(iq + width * slot, 16)
                if raw is not None and struct.unpack("<QQ", raw) == (q.qw0, q.qw1):
                    hits.append(q)
            if len(hits) > len(qi_present):
                qi_present = hits
    core.close()
    print("trace: %d queue slots used, %d of them still holding the traced descriptor"
          % (len(qis), len(qi_present)))
    return present, irte_present, qi_present, problems


def self_test(args, d, present):
    """The check must fail on damaged input (a wrong translation, not just
    any complaint) and pass on the cut-down fixture."""
    bad = 0
    tmp = tempfile.mkdtemp(prefix="ish-golden-")
    try:
        for kind in ("rtaddr", "pte", "irta", "iqa"):
            sub = os.path.join(tmp, kind)
            os.makedirs(sub)
            mem, regs = corrupt(kind, d, sub, present)
            print("self-test: --corrupt %s (must fail):" % kind)
            rc, wrong = check(args, present, [], mem, regs, quiet=True)
            what = {"irta": "irte", "iqa": "iq"}.get(kind, "translate")
            if rc == 0 or wrong[what] == 0:
                print("self-test FAIL: no %s went wrong on corrupted %s" % (what, kind))
                bad += 1
            else:
                print("self-test ok: corrupted %s caught (%d %s wrong)"
                      % (kind, wrong[what], what))
            if kind == "pte":
                os.unlink(mem)
        fx = os.path.join(tmp, "fixture")
        vtdwalk.write_fixture(d, fx)
        print("self-test: fixture (only the VT-d table pages; must pass):")
        if check(args, present, [], os.path.join(fx, "memory.elf"),
             os.path.join(fx, "regs.txt"), quiet=True)[0]:
            print("self-test FAIL: the fixture does not translate like the full dump")
            bad += 1
        else:
            print("self-test ok: the fixture translates like the full dump")
        # iommush's own snapshot of the dump must answer as the dump did
        snap = os.path.join(tmp, "snapshot.elf")
        r = subprocess.run([os.path.abspath(args.iommush), "-O",
                            "dump.regs=" + os.path.join(d, "regs.txt"), "-c",
                            "snapshot " + snap, os.path.join(d, "memory.elf")],
                           capture_output=True, text=True, timeout=300)
        print("self-test: iommush snapshot (must pass): %s"
              % (r.stdout.strip() or r.stderr.strip()))
        if r.returncode != 0 or check(args, present, [], snap, None, quiet=True)[0]:
            print("self-test FAIL: iommush's snapshot does not answer like the dump")
            bad += 1
        else:
            print("self-test ok: iommush's snapshot answers like the dump")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if bad else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("iommush")
    ap.add_argument("dir")
    ap.add_argument("--capture", metavar="MODE",
            help="capture into DIR first when it holds no memory.elf")
    ap.add_argument("--fresh", action="store_true", help="with --capture: always capture")
    ap.add_argument("--corrupt", choices=["rtaddr", "pte", "irta", "iqa"],
            help="give iommush a damaged copy (the check must then fail)")
    ap.add_argument("--self-test", action="store_true",
            help="also check that --corrupt rtaddr/pte fail and a fixture passes")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    d = os.path.abspath(args.dir)

    if args.capture and (args.fresh or not os.path.exists(os.path.join(d, "memory.elf"))):
        rc = subprocess.call([sys.executable, os.path.join(HERE, "lab.py"), "capture",
                      "--mode", args.capture, "--out", d,
                      "--iommush", os.path.abspath(args.iommush)])
        if rc:
            return rc
    for n in ("memory.elf", "regs.txt", "trace.log"):
        if not os.path.exists(os.path.join(d, n)):
            print("no %s in %s (run lab.py capture)" % (n, d))
            return 1
    if not os.access(args.iommush, os.X_OK):
        print("no iommush binary at %s" % args.iommush)
        return 1

    present, irtes, qis, problems = analyse(d)
    args.irtes = irtes
    args.qis = qis
    if len(present) < MIN_PRESENT:
        print("FAIL: fewer than %d present mappings: the capture proves too little"
              % MIN_PRESENT)
        return 1

    mem, regs = os.path.join(d, "memory.elf"), os.path.join(d, "regs.txt")
    tmp = None
    if args.corrupt:
        tmp = tempfile.mkdtemp(prefix="ish-golden-")
        mem, regs = corrupt(args.corrupt, d, tmp, present)
    try:
        rc = check(args, present, problems, mem, regs)[0]
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    if args.self_test:
        rc |= self_test(args, d, present)
    if not args.corrupt and os.path.exists(os.path.join(d, "live.json")):
        rc |= check_live(args, d, present)
    return rc


def check_live(args, d, present):
    """The answers iommush gave through QEMU's gdbstub while the guest was
    stopped (lab.py capture --iommush) must equal the dump's, which check()
    holds to QEMU's trace; and the snapshot taken live must reproduce every
    traced translation on its own."""
    with open(os.path.join(d, "live.json")) as f:
        live = json.load(f)
    cmds = [c for c in live["commands"] if not c.startswith(("snapshot", "show"))]
    live_vals = iter_json(live["stdout"])[:len(cmds)]
    ish = Iommush(os.path.abspath(args.iommush), os.path.join(d, "memory.elf"),
                  os.path.join(d, "regs.txt"))
    dump_vals = [v for v, _ in ish.run(cmds)]
    problems = []
    # Only the gdbstub reaches PCI config space (ECAM): names are its extra.
    pci_keys = ("vendor_id", "device_id", "name")
    for i, lv in enumerate(live_vals):
        if cmds[i] == "devices" and isinstance(lv, list):
            named = sum(1 for d in lv if "vendor_id" in d)
            if named != len(lv):
                problems.append("devices: %d of %d devices have PCI ids through the gdbstub"
                                % (named, len(lv)))
            live_vals[i] = [{k: v for k, v in d.items() if k not in pci_keys} for d in lv]
    snap = os.path.join(d, "live.snap")
    for c, lv, dv in zip(cmds, live_vals, dump_vals):
        if c == "pci":
            # A QEMU dump has RAM, not ECAM: the live snapshot keeps config space.
            sv = Iommush(os.path.abspath(args.iommush), snap, None).run(["pci"])[0][0] \
                if os.path.exists(snap) else None
            bdfs = {x["bdf"] for x in live_vals[cmds.index("devices")]}
            if not lv or lv != sv:
                problems.append("pci: the gdbstub and the live snapshot disagree")
            elif not bdfs <= {x["bdf"] for x in lv}:
                problems.append("pci: devices with a context entry missing from pci")
        elif lv != dv:
            problems.append("%s: the gdbstub and the dump disagree" % c)
    if len(live_vals) != len(cmds):
        problems.append("the gdbstub run answered %d of %d commands" % (len(live_vals), len(cmds)))
    nmaps = sum(len(v) for c, v in zip(cmds, live_vals) if c.startswith("mappings"))
    print("live (gdbstub): %d commands, %d mappings, answers equal to the dump's: %s"
          % (len(cmds), nmaps, "yes" if not problems else "NO"))
    snap_problems = []
    rc, _ = check(args, present, snap_problems, snap, None, quiet=True) if os.path.exists(snap) \
        else (1, None)
    problems += snap_problems
    if not os.path.exists(snap):
        problems.append("no live.snap: the snapshot over the gdbstub was not taken")
    print("live snapshot: %s" % ("every traced translation reproduced" if not rc
                                 else "FAILED"))
    for p in problems:
        print("FAIL:", p)
    return 1 if problems or rc else 0


def check(args, present, problems, mem, regs, quiet=False):
    """Runs iommush -> (exit status, {"translate"|"irte": how many wrong})."""
    ish = Iommush(os.path.abspath(args.iommush), mem, regs)
    cmds = []
    expect = []  # (kind, fill, iova, expected hpa or None)
    for fl in present:
        acc = "" if fl.slpte & 1 else " --write"
        for iova in (fl.iova, fl.page() + fl.size - 1):
            cmds.append("translate %s 0x%x%s" % (fl.bdf(), iova, acc))
            expect.append(("translate", fl, iova, fl.hpa(iova)))
        if not fl.slpte & 1:
            cmds.append("translate %s 0x%x" % (fl.bdf(), fl.iova))
            expect.append(("read-of-write-only", fl, fl.iova, None))
    for e in getattr(args, "irtes", []):
        cmds.append("irte %d" % e.index)
        expect.append(("irte", e, None, None))
    if getattr(args, "qis", None):
        cmds.append("iq --all")
        expect.append(("iq", None, None, None))
    sids = sorted({fl.sid for fl in present})
    for sid in sids:
        fl = next(f for f in present if f.sid == sid)
        cmds.append("mappings %s" % fl.bdf())
        expect.append(("mappings", fl, None, None))

    results = ish.run(cmds)
    ok = {"translate": 0, "read-of-write-only": 0, "mappings": 0, "irte": 0, "iq": 0}
    maps = {}
    for (kind, fl, iova, hpa), (val, err), cmd in zip(expect, results, cmds):
        if kind == "mappings":
            if isinstance(val, dict):
                val = val.get("mappings", val.get("ranges"))
            if not isinstance(val, list):
                problems.append("%s: no JSON list (%s)" % (cmd, err or val))
                continue
            maps[fl.sid] = val
            ok["mappings"] += 1
            continue
        if kind == "iq":
            bad = check_iq(cmd, args.qis, val, err)
            problems += bad
            ok["iq"] = len(args.qis) - len(bad)
            continue
        if kind == "irte":
            bad = check_irte(cmd, fl, val, err)
            problems += bad
            ok["irte"] += not bad
            continue
        if not isinstance(val, dict):
            problems.append("%s: no JSON object (%s)" % (cmd, err))
            continue
        if kind == "read-of-write-only":
            if "fault" in val and "hpa" not in val:
                ok[kind] += 1
            else:
                problems.append("%s: a read of a write-only entry gave %s, not a fault"
                        % (cmd, json.dumps(val)))
            continue
        got = val.get("hpa")
        if got != hpa:
            if isinstance(got, int):
                said = "hpa 0x%x" % got
            elif isinstance(val.get("fault"), dict):
                said = "fault %s (%s)" % (val["fault"].get("reason"),
                              val["fault"].get("text"))
            else:
                said = json.dumps(val)[:200]
            problems.append("%s: %s, QEMU translated it to 0x%x (slpte 0x%x, trace line %d)"
                    % (cmd, said, hpa, fl.slpte, fl.line + 1))
        elif "did" in val and val["did"] != fl.domain:
            # QEMU tags its IOTLB entry with the domain of the context
            # (legacy) or PASID (scalable) entry it walked through
            problems.append("%s: did %s, QEMU's domain %d" % (cmd, val["did"], fl.domain))
        elif (val.get("read", bool(fl.slpte & 1)), val.get("write", bool(fl.slpte & 2))) \
                != (bool(fl.slpte & 1), bool(fl.slpte & 2)):
            problems.append("%s: read %s write %s, QEMU's slpte 0x%x"
                            % (cmd, val.get("read"), val.get("write"), fl.slpte))
        elif "page_size" in val and val["page_size"] != fl.size:
            problems.append("%s: page_size %s, QEMU's mask says %d"
                            % (cmd, val["page_size"], fl.size))
        else:
            ok[kind] += 1

    # mappings must hold every present IOVA with the same HPA
    in_maps = 0
    for fl in present:
        ranges = maps.get(fl.sid)
        if ranges is None:
            continue
        hit = None
        for r in ranges:
            try:
                lo, size, hpa = int(r["iova"]), int(r["size"]), int(r["hpa"])
            except (KeyError, TypeError, ValueError):
                continue
            if lo <= fl.iova < lo + size:
                hit = hpa + (fl.iova - lo)
                break
        if hit == fl.hpa(fl.iova):
            in_maps += 1
        else:
            problems.append("mappings %s: iova 0x%x %s, QEMU: 0x%x"
                    % (fl.bdf(), fl.iova, "missing" if hit is None else
                       "-> 0x%x" % hit, fl.hpa(fl.iova)))

    problems += ["iommush: %s" % r for r in ish.sanitizer]
    nxl = sum(1 for e in expect if e[0] == "translate")
    nro = sum(1 for e in expect if e[0] == "read-of-write-only")
    shown = 3 if quiet else 40
    for p in problems[:shown]:
        print("  " + p)
    if len(problems) > shown:
        print("  ... and %d more" % (len(problems) - shown))
    nirte = sum(1 for e in expect if e[0] == "irte")
    nqi = len(getattr(args, "qis", []))
    print("golden: %d still present, %d/%d translations verified, %d/%d write-only reads "
          "faulted, %d/%d in mappings, %d/%d IRTEs and %d/%d queued descriptors decoded "
          "as QEMU did (%d iommush runs)"
          % (len(present), ok["translate"], nxl, ok["read-of-write-only"], nro,
         in_maps, len(present), ok["irte"], nirte, ok["iq"], nqi, ish.runs))
    if args.verbose and not quiet:
        for fl in present:
            print("  %s iova 0x%x -> 0x%x size 0x%x slpte 0x%x domain %d"
                  % (fl.bdf(), fl.iova, fl.hpa(fl.iova), fl.size, fl.slpte, fl.domain))
    wrong = {"translate": nxl - ok["translate"], "irte": nirte - ok["irte"],
         "iq": nqi - ok["iq"]}
    if not quiet:
        print("FAIL" if problems else "PASS")
    return (1 if problems else 0), wrong


if __name__ == "__main__":
    sys.exit(main())
