#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The debugfs backend against the dump backend on the same guest.

  compare.py IOMMUSH FIXTURE_DIR...    (tests/fixtures/debugfs/<kernel>-<mode>/)

Each fixture holds debugfs/ (the guest's iommu/intel files), dmar.bin and
snapshot.elf (iommush's snapshot of the guest's memory taken at the same
stop). For every device the dump shows, `context`, `mappings` must answer
the same through both; so must `irte all`, `iq --all` and every register
that iommu_regset lists. Differences that debugfs cannot avoid are named
here and nowhere else:

  - the PASID directory entries and the PASID table addresses (the kernel
    prints neither; the debugfs image puts the tables at synthetic pages);
  - device names and ids (config space is not in debugfs);
  - registers iommu_regset does not list (fault records, IOTLB, and in v6.1
    IQERCD, which `iq` shows when it can), and registers the dump's register
    file does not hold (QEMU's block is read only up to 0x230).

Exit 0 when everything agrees, 1 otherwise, 77 when a fixture is missing.
"""

import gzip
import shutil
import tempfile
import json
import os
import subprocess
import sys


def run(iommush, target, cmd):
    argv = [iommush] + target + ["--json", "-c", cmd]
    p = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    if p.returncode:
        return {"error": p.stderr.strip()}
    return json.loads(p.stdout)


def strip_context(c):
    c = json.loads(json.dumps(c))
    c.pop("pasid_dir", None)
    pe = c.get("pasid_entry")
    if isinstance(pe, dict):
        pe.pop("address", None)
    return c


DEVICE_KEYS = ("unit", "segment", "bdf", "scalable", "type", "did", "levels", "valid",
               "pasid_enabled", "rid_pasid", "pasids")


def unpack(fx, tmp):
    """The fixture's debugfs files (committed as NAME.gz) as a directory."""
    src = os.path.join(fx, "debugfs")
    out = os.path.join(tmp, "debugfs")
    for top, _, files in os.walk(src):
        rel = os.path.relpath(top, src)
        os.makedirs(os.path.join(out, rel), exist_ok=True)
        for n in files:
            gz = n.endswith(".gz")
            with (gzip.open if gz else open)(os.path.join(top, n), "rb") as f, \
                 open(os.path.join(out, rel, n[:-3] if gz else n), "wb") as g:
                shutil.copyfileobj(f, g)
    return out


def compare(iommush, fx):
    with tempfile.TemporaryDirectory(prefix="ish-debugfs-") as tmp:
        return compare_dir(iommush, fx, unpack(fx, tmp))


def moved(fx):
    """(bdf, iova) pairs the guest remapped between printing debugfs and the
    memory dump, from FIXTURE/moved.txt ("BDF IOVA  why", '#' comments): a
    streaming buffer in use is a race no stop can avoid. Each must really
    differ, or the line is stale."""
    out = {}
    try:
        with open(os.path.join(fx, "moved.txt")) as f:
            for ln in f:
                w = ln.split("#")[0].split()
                if len(w) >= 2:
                    out[(w[0], int(w[1], 0))] = False
    except FileNotFoundError:
        pass
    return out


def compare_dir(iommush, fx, dfsdir):
    dfs = [dfsdir, "-O", "acpi.dmar=" + os.path.join(fx, "dmar.bin")]
    dump = [os.path.join(fx, "snapshot.elf")]
    bad = []
    checked = 0
    skip = moved(fx)

    def same(what, a, b):
        nonlocal checked
        checked += 1
        if a != b:
            bad.append("%s: debugfs %s\n    dump    %s" % (what, json.dumps(a)[:400],
                                                         json.dumps(b)[:400]))

    dd = run(iommush, dump, "devices")
    fd = run(iommush, dfs, "devices")
    if "error" in dd or "error" in fd:
        return ["devices: %s %s" % (fd.get("error", "") if isinstance(fd, dict) else "",
                                    dd.get("error", "") if isinstance(dd, dict) else "")], 0
    same("devices", [{k: d.get(k) for k in DEVICE_KEYS} for d in fd],
         [{k: d.get(k) for k in DEVICE_KEYS} for d in dd])
    for d in dd:
        bdf = d["bdf"]
        same("context " + bdf, strip_context(run(iommush, dfs, "context " + bdf)),
             strip_context(run(iommush, dump, "context " + bdf)))
        ma, mb = run(iommush, dfs, "mappings " + bdf), run(iommush, dump, "mappings " + bdf)
        for key in [k for k in skip if k[0] == bdf]:
            ra = [m for m in ma if m.get("iova") == key[1]] if isinstance(ma, list) else []
            rb = [m for m in mb if m.get("iova") == key[1]] if isinstance(mb, list) else []
            skip[key] = ra != rb
            if isinstance(ma, list):
                ma = [m for m in ma if m.get("iova") != key[1]]
            if isinstance(mb, list):
                mb = [m for m in mb if m.get("iova") != key[1]]
        same("mappings " + bdf, ma, mb)
    same("irte all", run(iommush, dfs, "irte all"), run(iommush, dump, "irte all"))
    qa, qb = run(iommush, dfs, "iq --all"), run(iommush, dump, "iq --all")
    for qa_u, qb_u in zip(qa if isinstance(qa, list) else [], qb if isinstance(qb, list) else []):
        for k in ("iqer", "iqei"):
            if k not in qa_u:
                qb_u.pop(k, None)
    same("iq --all", qa, qb)
    # Registers: every one debugfs shows must read the same in the dump.
    with open(os.path.join(dfsdir, "iommu_regset")) as f:
        names = [ln.split()[0] for ln in f if ln.split() and ln.split()[1:2] and
                 ln.split()[1].startswith("0x")]
    for n in names:
        a, b = run(iommush, dfs, "regs " + n), run(iommush, dump, "regs " + n)
        if isinstance(b, dict) and "error" in b:
            continue  # a register the snapshot does not keep (MTRRs)
        if isinstance(b, list) and any("error" in r for u in b for r in u.get("registers", [])):
            continue  # past the 0x230 bytes of QEMU's block that the dump's regs hold
        same("regs " + n, a, b)
    for (bdf, iova), differed in skip.items():
        if not differed:
            bad.append("moved.txt: %s %#x is the same in both: remove the line" % (bdf, iova))
    return bad, checked


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    iommush = sys.argv[1]
    status = 0
    for fx in sys.argv[2:]:
        if not os.path.exists(os.path.join(fx, "snapshot.elf")):
            print("%s: no snapshot.elf" % fx, file=sys.stderr)
            status = status or 77
            continue
        bad, checked = compare(iommush, fx)
        for b in bad:
            print("%s: %s" % (fx, b), file=sys.stderr)
        print("%s: %d answers compared, %d differ" % (fx, checked, len(bad)))
        if bad or not checked:
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
