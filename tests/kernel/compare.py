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
  - registers iommu_regset does not list (fault records, IOTLB).

Exit 0 when everything agrees, 1 otherwise, 77 when a fixture is missing.
"""

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


def compare(iommush, fx):
    dfs = [os.path.join(fx, "debugfs"), "-O", "acpi.dmar=" + os.path.join(fx, "dmar.bin")]
    dump = [os.path.join(fx, "snapshot.elf")]
    bad = []
    checked = 0

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
        same("mappings " + bdf, run(iommush, dfs, "mappings " + bdf),
             run(iommush, dump, "mappings " + bdf))
    same("irte all", run(iommush, dfs, "irte all"), run(iommush, dump, "irte all"))
    same("iq --all", run(iommush, dfs, "iq --all"), run(iommush, dump, "iq --all"))
    # Registers: every one debugfs shows must read the same in the dump.
    with open(os.path.join(fx, "debugfs", "iommu_regset")) as f:
        names = [ln.split()[0] for ln in f if ln.split() and ln.split()[1:2] and
                 ln.split()[1].startswith("0x")]
    for n in names:
        a, b = run(iommush, dfs, "regs " + n), run(iommush, dump, "regs " + n)
        if isinstance(b, dict) and "error" in b:
            continue  # a register the snapshot does not keep (MTRRs)
        same("regs " + n, a, b)
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
