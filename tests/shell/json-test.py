#!/usr/bin/env python3
"""Every command's --json output parses and agrees with its text output.

Usage: json-test.py IOMMUSH

Runs each command on the bundled demo snapshot (a real QEMU guest) twice,
once for people and once with --json, and checks that the JSON is one valid
value per command, that numbers are integers, and that the facts in it (HPAs,
ranges, counts, names) are the ones the text shows.
"""
import json
import os
import re
import subprocess
import sys

passed = failed = 0


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAILED:", what)


def run(iommush, cmd, js):
    argv = [iommush, "--demo"] + (["--json"] if js else []) + ["-c", cmd]
    p = subprocess.run(argv, capture_output=True, text=True,
                       env=dict(os.environ, IOMMUSH_PLUGIN_PATH=""))
    return p.returncode, p.stdout


def no_floats(v, path="$"):
    if isinstance(v, float):
        return path
    if isinstance(v, dict):
        for k, x in v.items():
            r = no_floats(x, f"{path}.{k}")
            if r:
                return r
    if isinstance(v, list):
        for i, x in enumerate(v):
            r = no_floats(x, f"{path}[{i}]")
            if r:
                return r
    return None


def main():
    iommush = sys.argv[1]
    # An HPA that 00:02.0 reaches, from its first mapping (the demo guest's own).
    _, first = run(iommush, "mappings 00:02.0", True)
    target_hpa = json.loads(first)[1]["hpa"] + 0x10
    cmds = ["units", "devices", "context 00:02.0", "pasid 00:02.0", "pasid 00:02.0 0",
            "translate 00:02.0 0xffebe123", "translate 00:02.0 0x1000",
            "translate 00:02.0 0xffebe123 --write", "mappings 00:02.0",
            "mappings 00:02.0 0xffe00000-0xffefffff", "who-maps %#x" % target_hpa, "irte 0",
            "irte all", "iq", "faults", "regs", "regs dmar0 GSTS CAP", "dmar", "pci", "backends",
            "show", "help", "help translate"]
    parsed = {}
    for c in cmds:
        rc, out = run(iommush, c, True)
        check(rc == 0, f"{c}: --json exits 0 (got {rc})")
        lines = [l for l in out.splitlines() if l.strip()]
        check(len(lines) == 1, f"{c}: one JSON value on one line (got {len(lines)} lines)")
        try:
            v = json.loads(out)
        except ValueError as e:
            check(False, f"{c}: JSON parses ({e})")
            continue
        check(no_floats(v) is None, f"{c}: numbers are integers ({no_floats(v)})")
        parsed[c] = v

    # translate: the HPA, or the fault code, is the one the text shows.
    v = parsed.get("translate 00:02.0 0xffebe123", {})
    _, text = run(iommush, "translate 00:02.0 0xffebe123", False)
    check("hpa" in v and f"HPA {v['hpa']:#x}" in text, "translate: JSON hpa appears in text")
    check(v.get("read") is True and isinstance(v.get("write"), bool), "translate: permissions as booleans")
    v = parsed.get("translate 00:02.0 0x1000", {})
    _, text = run(iommush, "translate 00:02.0 0x1000", False)
    check("fault" in v and isinstance(v["fault"]["reason"], int), "translate: a fault has an integer reason")
    check("fault" in v and f"fault {v['fault']['reason']:#x}" in text and v["fault"]["text"] in text,
          "translate: the fault code and text appear in the text output")

    # mappings: the same ranges as the text lines.
    v = parsed.get("mappings 00:02.0", [])
    _, text = run(iommush, "mappings 00:02.0", False)
    rows = re.findall(r"^0x([0-9a-f]+)-0x([0-9a-f]+) -> 0x([0-9a-f]+)", text, re.M)
    check(isinstance(v, list) and len(v) == len(rows) and len(rows) > 10,
          f"mappings: as many JSON ranges as text rows ({len(v)} vs {len(rows)})")
    ok = all(m["iova"] == int(a, 16) and m["iova"] + m["size"] - 1 == int(b, 16) and
             m["hpa"] == int(h, 16) for m, (a, b, h) in zip(v, rows))
    check(ok, "mappings: every range's iova, size and hpa agree with the text")
    check(all(set(("iova", "hpa", "size", "read", "write")) <= set(m) for m in v),
          "mappings: each range has iova, hpa, size, read, write")
    sub = parsed.get("mappings 00:02.0 0xffe00000-0xffefffff", [])
    check(0 < len(sub) < len(v) and all(0xffe00000 <= m["iova"] <= 0xffefffff for m in sub),
          "mappings RANGE: only ranges inside it")

    # devices and units: names and counts.
    v = parsed.get("devices", [])
    _, text = run(iommush, "devices", False)
    check(len(v) == len(re.findall(r"^dmar\d", text, re.M)) == 8, "devices: 8 devices in both")
    check(all(f"[{d['vendor_id']:04x}:{d['device_id']:04x}] {d['name']}" in text for d in v),
          "devices: ids and names (from the snapshot's config space) agree")
    # pci: every function's line carries what its JSON says, and its context the DID `devices` has.
    v = parsed.get("pci", [])
    _, text = run(iommush, "pci", False)
    dids = {d["bdf"]: d["did"] for d in parsed.get("devices", [])}
    check(len(v) == len(text.splitlines()) == 8, "pci: 8 functions in both")
    check(all(f"{f['segment']:04x}:{f['bdf']} [{f['vendor_id']:04x}:{f['device_id']:04x}] "
              f"{f['class']:06x}  {f['unit']} ({f['cover']}) context+ {f['context']['mode']} "
              f"{f['context']['type']} DID {f['context']['did']}  {f['name']}" in text for f in v),
          "pci: ids, class, unit, cover, context and name agree")
    check(all(f["context"]["did"] == dids.get("%04x:%s" % (f["segment"], f["bdf"]), dids.get(f["bdf"]))
              for f in v), "pci: context DIDs are the ones `devices` shows")
    v = parsed.get("units", [])
    check(len(v) == 1 and v[0]["name"] == "dmar0" and v[0]["base"] == 0xfed90000,
          "units: dmar0 at 0xfed90000")

    # who-maps: every hit is a mapping that covers the address.
    v = parsed.get("who-maps %#x" % target_hpa, [])
    check(isinstance(v, list) and len(v) > 0, "who-maps: finds devices")
    if isinstance(v, list):
        for w in v:
            m = w.get("mapping") or w
            check(w.get("bdf") is not None and "iova" in w, "who-maps: each hit names a device and an IOVA")
    # regs: the fields of GSTS agree with the text flags.
    v = parsed.get("regs dmar0 GSTS CAP", {})
    regs = v.get("registers", []) if isinstance(v, dict) else []
    gsts = [r for r in regs if r["name"] == "GSTS"]
    _, text = run(iommush, "regs dmar0 GSTS", False)
    check(len(gsts) == 1 and (("TES+" in text) == bool(gsts[0]["fields"]["TES"])),
          "regs: GSTS.TES agrees between JSON and text")
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
