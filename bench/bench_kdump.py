#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""What reading a real kdump-compressed dump costs (issue 13).

Opens a 256 MiB lab guest's `makedumpfile -c -d 31` dump (zlib pages, the
format a distribution's kdump service writes) with iommush and lists every
device's mappings (`devices`, then `mappings BDF` for each, one process,
the register file the lab captured at the same stop), against zcat-class
work on the same file: Python's zlib decompressing every page the dump holds
(descriptors read the same way), and `makedumpfile --dump-dmesg`. Each is
run 5 times; medians. The ratio iommush / decompress-everything says how
much of the file iommush avoids touching (it decompresses only the pages a
walk reads).

Usage: bench_kdump.py IOMMUSH [OUT] [--dump FILE --regs FILE]
Without --dump it boots the lab guest once through
tests/kernelview/test_kernelview.py --dumps --keep (IOMMUSH_LAB_CACHE) to
make them. OUT defaults to bench/results-kdump.txt. Not part of the tests.
"""
import argparse
import json
import os
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))


def timed(fn, runs=5):
    t = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        t.append(time.perf_counter() - t0)
    return statistics.median(t)


def decompress_all(path):
    """Every page the dump holds, decompressed: what zcat of the whole would do."""
    n = 0
    with open(path, "rb") as f:
        h = f.read(464)
        block, sub, bm = struct.unpack_from("<iiI", h, 428)
        f.seek((1 + sub) * block + bm * block // 2)
        npages = sum(bin(b).count("1") for b in f.read(bm * block // 2))
        f.seek((1 + sub + bm) * block)
        descs = f.read(24 * npages)
        for i in range(npages):
            off, size, flags = struct.unpack_from("<qII", descs, 24 * i)
            f.seek(off)
            data = f.read(size)
            if flags & 1:
                data = zlib.decompress(data)
            n += len(data)
    return n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("iommush")
    ap.add_argument("out", nargs="?", default=os.path.join(HERE, "results-kdump.txt"))
    ap.add_argument("--dump")
    ap.add_argument("--regs")
    args = ap.parse_args()
    tmp = None
    if not args.dump:
        tmp = tempfile.mkdtemp(prefix="ish-bench-kdump-")
        r = subprocess.run([sys.executable, os.path.join(HERE, "..", "tests", "kernelview",
                                                         "test_kernelview.py"),
                            args.iommush, tmp, "--mode", "legacy", "--dumps", "--keep"])
        if r.returncode:
            sys.exit(r.returncode)
        args.dump = os.path.join(tmp, "legacy", "mdf-c31.dump")
        args.regs = os.path.join(tmp, "legacy", "dump.regs")
    opts = ["-O", "dump.regs=" + args.regs]
    devs = json.loads(subprocess.run([args.iommush, args.dump, "--json", "-c", "devices"] + opts,
                                     capture_output=True, text=True, check=True).stdout)
    cmd = [args.iommush, args.dump, "--json", "-c", "devices"] + opts
    for d in devs:
        if d.get("valid"):
            cmd += ["-c", "mappings " + d["bdf"]]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    t_ish = timed(lambda: subprocess.run(cmd, capture_output=True, check=True))
    t_zlib = timed(lambda: decompress_all(args.dump), runs=3)
    nbytes = decompress_all(args.dump)
    mdf = shutil.which("makedumpfile") or "/usr/sbin/makedumpfile"
    t_dmesg = None
    if os.path.exists(mdf):
        dm = os.path.join(tempfile.gettempdir(), "ish-bench-dmesg.txt")

        def dmesg():
            if os.path.exists(dm):
                os.unlink(dm)
            subprocess.run([mdf, "--dump-dmesg", args.dump, dm], capture_output=True)
        t_dmesg = timed(dmesg, runs=3)
        if os.path.exists(dm):
            os.unlink(dm)
    lines = [
        "# bench/bench_kdump.py, %s, on the shared build machine (load %.1f)"
        % (time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), os.getloadavg()[0]),
        "dump: makedumpfile 1.7.2 -c -d 31 of a 256 MiB Debian 6.1 guest, %d bytes, %d MiB of "
        "pages held" % (os.path.getsize(args.dump), nbytes >> 20),
        "iommush open + devices + mappings of %d devices (%d bytes of JSON): %.3f s (median of 5)"
        % (sum(1 for d in devs if d.get("valid")), len(out), t_ish),
        "python zlib, every page decompressed: %.3f s (median of 3)" % t_zlib,
    ]
    if t_dmesg is not None:
        lines.append("makedumpfile --dump-dmesg: %.3f s (median of 3)" % t_dmesg)
    lines.append("ratio iommush / decompress-everything: %.3f" % (t_ish / t_zlib))
    if t_dmesg:
        lines.append("ratio iommush / makedumpfile --dump-dmesg: %.3f" % (t_ish / t_dmesg))
    with open(args.out, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))
    if tmp:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
