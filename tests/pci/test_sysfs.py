#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""PCI on a live backend through libpci's sysfs method, against a fake sysfs
tree made by mksysfs.py from the config space the demo snapshot captured
(a real QEMU q35 guest).

The live backend here is debugfs on a real debugfs capture (committed as
tests/fixtures/debugfs/*/debugfs/*.gz), with -O pci.sysfs=TREE. `pci` on it
must list the same functions, ids, classes, header types and bridge buses
as `pci` on the snapshot itself (dump backend, config space scanned from bus
0). Then hostile trees: missing directory, unreadable entry names, a missing
vendor file, config files cut short, garbage config bytes, and a target read
from files without pci.sysfs (must not fall back to this machine's /sys).

Usage: test_sysfs.py IOMMUSH SOURCE_ROOT
"""
import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
import ishtest  # noqa: E402
check = ishtest.Checks()
FAILURES = check.failures



def run(argv):
    p = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    # A signal is never an answer.
    check(p.returncode in (0, 1, 2), "%s: exit status %d" % (" ".join(argv[1:]), p.returncode))
    return p


def key(f):
    return (f["segment"], f["bdf"], f["vendor_id"], f["device_id"], f["class"],
            f["header_type"], json.dumps(f["bridge"]))


def main():
    iommush, src = sys.argv[1], sys.argv[2]
    # What this test creates must be readable by the unprivileged run below.
    os.umask(0o022)
    demo = os.path.join(src, "demo", "demo.snapshot")
    fx = os.path.join(src, "tests", "fixtures", "debugfs", "6.12-legacy")
    mk = [sys.executable, os.path.join(src, "tests", "pci", "mksysfs.py"), demo]
    with tempfile.TemporaryDirectory(prefix="ish-pci-") as tmp:
        dfs = os.path.join(tmp, "debugfs")
        os.makedirs(dfs)
        for n in os.listdir(os.path.join(fx, "debugfs")):
            if n.endswith(".gz"):
                with gzip.open(os.path.join(fx, "debugfs", n), "rb") as f, \
                     open(os.path.join(dfs, n[:-3]), "wb") as g:
                    shutil.copyfileobj(f, g)
        live = [iommush, "-O", "debugfs.root=" + dfs, "-O",
                "acpi.dmar=" + os.path.join(fx, "dmar.bin"), "debugfs"]

        tree = os.path.join(tmp, "tree")
        subprocess.run(mk + [tree], check=True, stdout=subprocess.DEVNULL)
        snap = run([iommush, demo, "--json", "-c", "pci"])
        check(snap.returncode == 0, "pci on the snapshot: %s" % snap.stderr.strip())
        want = json.loads(snap.stdout)
        check(len(want) == len(os.listdir(os.path.join(tree, "devices"))),
              "the snapshot scan finds every captured function (%d)" % len(want))
        got = run(live + ["-O", "pci.sysfs=" + tree, "--json", "-c", "pci"])
        if "built without libpci" in got.stderr:
            # -Dlibpci=disabled: live targets say so, and that is all they can do.
            check(got.returncode == 1 and got.stderr.strip() == "iommush: pci: PCI on a live host "
                  "needs libpci: iommush was built without libpci",
                  "without libpci: %s" % got.stderr.strip())
            return 1 if FAILURES else 0
        check(got.returncode == 0, "pci through libpci: %s" % got.stderr.strip())
        have = json.loads(got.stdout) if got.returncode == 0 else []
        check([key(f) for f in have] == [key(f) for f in want],
              "libpci over sysfs lists the functions, ids, classes and headers the snapshot has")
        check([f["name"] for f in have] == [f["name"] for f in want], "same libpci names")
        text = run(live + ["-O", "pci.sysfs=" + tree, "-c", "pci"]).stdout
        check("0000:00:01.0 [8086:10d3] 020000" in text and "context+ legacy" in text,
              "text output: ids, class and context entry of 00:01.0")

        # Not this machine's /sys: a target read from files has no PCI tree by default.
        p = run(live + ["-c", "pci"])
        check(p.returncode == 1 and "give its sysfs PCI tree with -O pci.sysfs=DIR" in p.stderr,
              "no pci.sysfs on a file target: %s" % p.stderr.strip())

        p = run(live + ["-O", "pci.sysfs=" + os.path.join(tmp, "nope"), "-c", "pci"])
        check(p.returncode == 1 and p.stderr.strip() ==
              "iommush: pci: PCI: %s/nope/devices: No such file or directory" % tmp,
              "missing tree: %s" % p.stderr.strip())

        # devices/ holds something that is not domain:bus:dev.fn
        bad = os.path.join(tmp, "garbage")
        subprocess.run(mk + [bad], check=True, stdout=subprocess.DEVNULL)
        os.makedirs(os.path.join(bad, "devices", "0000:00:zz.9"))
        p = run(live + ["-O", "pci.sysfs=" + bad, "-c", "pci"])
        check(p.returncode == 1 and "0000:00:zz.9: not a PCI address" in p.stderr,
              "garbage entry name: %s" % p.stderr.strip())
        shutil.rmtree(os.path.join(bad, "devices", "0000:00:zz.9"))
        os.makedirs(os.path.join(bad, "devices", "0000:00:02.8"))
        p = run(live + ["-O", "pci.sysfs=" + bad, "-c", "pci"])
        check(p.returncode == 1 and "0000:00:02.8: not a PCI address" in p.stderr,
              "function 8: %s" % p.stderr.strip())
        shutil.rmtree(os.path.join(bad, "devices", "0000:00:02.8"))

        # libpci's own error (a mandatory file missing) comes back, no exit
        nv = os.path.join(tmp, "novendor")
        subprocess.run(mk + [nv, "--no-vendor", "0000:00:03.0"], check=True,
                       stdout=subprocess.DEVNULL)
        p = run(live + ["-O", "pci.sysfs=" + nv, "-c", "pci"])
        check(p.returncode == 1 and "iommush: pci: PCI: Cannot open %s/devices/0000:00:03.0/vendor"
              ": No such file or directory" % nv in p.stderr,
              "missing vendor file: %s" % p.stderr.strip())

        # 64 bytes of config (what a non-root user gets): header and buses are inside
        short = os.path.join(tmp, "short64")
        subprocess.run(mk + [short, "--config-len", "64"], check=True, stdout=subprocess.DEVNULL)
        p = run(live + ["-O", "pci.sysfs=" + short, "--json", "-c", "pci"])
        check(p.returncode == 0 and [key(f) for f in json.loads(p.stdout)] ==
              [key(f) for f in want], "64-byte config files: same listing")

        # Past 64 bytes: the snapshot's own bytes as root; "needs root" for others.
        # (0xc8: the e1000e's power-management capability, past the first 64 bytes)
        lua = 'local t = iommu.target() print(t:read_config("00:01.0", 0xc8), ' \
              'select(2, t:read_config("00:01.0", 0xc8)))'
        p = run(live + ["-O", "pci.sysfs=" + tree, "-e", lua])
        d = run([iommush, demo, "-e", 'print(iommu.target():read_config("00:01.0", 0xc8))'])
        check(p.returncode == 0 and d.returncode == 0 and d.stdout.strip() not in ("", "0", "nil") and
              p.stdout.split("\t")[0].strip() == d.stdout.strip(),
              "read_config at 0xc8 through libpci equals the snapshot's (%s)" % d.stdout.strip())
        p = run(live + ["-O", "pci.sysfs=" + short, "-e", lua])
        if os.geteuid() == 0:
            check("config offset 0xc8 is past the end of its config file" in p.stdout,
                  "root, 64-byte config file: %s" % p.stdout.strip())
        nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
        if os.geteuid() != 0 or shutil.which("setpriv"):
            os.chmod(tmp, 0o755)
            unpriv = live
            if os.geteuid() == 0:
                # The process that drops privileges gets its own copies of what it
                # reads from the tree: a clone in a directory other users cannot
                # enter (0700) is unreadable to uid 65534 (dmar.bin: EACCES).
                pub = os.path.join(tmp, "unprivileged")
                os.makedirs(pub)
                os.chmod(pub, 0o755)
                for f, mode in ((iommush, 0o755), (os.path.join(fx, "dmar.bin"), 0o644)):
                    shutil.copyfile(f, os.path.join(pub, os.path.basename(f)))
                    os.chmod(os.path.join(pub, os.path.basename(f)), mode)
                unpriv = nobody + [os.path.join(pub, os.path.basename(iommush)), "-O",
                                   "debugfs.root=" + dfs, "-O",
                                   "acpi.dmar=" + os.path.join(pub, "dmar.bin"), "debugfs"]
            p = run(unpriv + ["-O", "pci.sysfs=" + short, "-e", lua])
            check("PCI: 0000:00:01.0: config offset 0xc8 needs root (sysfs shows other users "
                  "only the first 64 bytes)" in p.stdout, "not root: %s" % (p.stdout + p.stderr).strip())

        # 8 bytes: ids come from sysfs, the header type cannot be read
        short = os.path.join(tmp, "short8")
        subprocess.run(mk + [short, "--config-len", "8"], check=True, stdout=subprocess.DEVNULL)
        p = run(live + ["-O", "pci.sysfs=" + short, "--json", "-c", "pci"])
        funcs = json.loads(p.stdout) if p.stdout else []
        check(p.returncode == 1 and len(funcs) == len(want) and
              all(f["header_type"] is None for f in funcs) and
              "00:00.0: header type not readable: PCI: 0000:00:00.0: config offset 0xc is past "
              "the end of its config file" in p.stderr,
              "8-byte config files: listed, each header a warning: %s" %
              p.stderr.splitlines()[:1])

        # Garbage config bytes: a bridge header whose buses go backwards
        gb = os.path.join(tmp, "garbage-config")
        subprocess.run(mk + [gb], check=True, stdout=subprocess.DEVNULL)
        cfg = os.path.join(gb, "devices", "0000:00:02.0", "config")
        b = bytearray(open(cfg, "rb").read())
        b[0x0e] = 0x01           # a bridge
        b[0x18:0x1b] = b"\x00\x00\x05"
        open(cfg, "wb").write(bytes(b))
        p = run(live + ["-O", "pci.sysfs=" + gb, "-c", "pci"])
        check(p.returncode == 0 and "0000:00:02.0 [1af4:1041] 020000 bridge bus 00-05" in p.stdout,
              "a bridge header read through libpci shows its bus numbers")
        with open(cfg, "wb") as f:
            f.write(os.urandom(4096))
        p = run(live + ["-O", "pci.sysfs=" + gb, "--json", "-c", "pci"])
        check(p.returncode in (0, 1) and len(json.loads(p.stdout)) == len(want),
              "random config bytes: every function still listed")

    if FAILURES:
        print("%d failed" % len(FAILURES))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
