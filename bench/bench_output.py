#!/usr/bin/env python3
"""Output benchmark: `mappings` of 1,000,000 scattered 4-KiB ranges as text,
as JSON and as JSON Lines, each against `cat` of the same output (issue 12:
within 10x of cat).

Usage: bench_output.py IOMMUSH SRCDIR [RESULTS] [--before OLD_IOMMUSH]
       (RESULTS default bench/results-output.txt)

The image is tests/gen/mkimage.py's (the one the tests use), with 1,000,000
mappings whose HPAs step by 8 KiB, so every page is its own range. Each
format is first written to a file (its size is reported); then iommush and
`cat FILE` run alternately, 7 times each, both with stdout on /dev/null, and
again both into a pipe read by `cat > /dev/null` (through sh -c on both
sides). Figures are wall times of the whole process, best and median; the
ratios are iommush / cat of the same run, so machine load cancels out as far
as it can. The start-up line (open the image and quit) and the time to the
first byte of the answer (JSON Lines and the JSON array, read from a pipe)
say where the rest goes. With --before, an older build runs the same rows in
the same run (formats it does not know are left out).
"""
import os
import statistics
import subprocess
import sys
import tempfile
import time

RUNS = 7


def wall(argv, stdout=subprocess.DEVNULL):
    t = time.perf_counter()
    subprocess.run(argv, stdout=stdout, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - t


def first_byte(argv):
    """Seconds to the first byte on a pipe, and to the end."""
    t = time.perf_counter()
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    p.stdout.read(1)
    first = time.perf_counter() - t
    while p.stdout.read(1 << 20):
        pass
    p.wait()
    return first, time.perf_counter() - t


def rows(label, iommush, base_args, tmp, lines):
    base = [iommush] + base_args
    cmd = ["-c", "mappings 00:01.0"]
    q = lambda a: " ".join("'" + x.replace("'", "'\\''") + "'" for x in a)
    for name, mode in (("text", []), ("json", ["--json"]), ("jsonl", ["--jsonl"])):
        argv = base + mode + cmd
        path = os.path.join(tmp, "out." + name)
        with open(path, "wb") as f:
            rc = subprocess.run(argv, stdout=f, stderr=subprocess.DEVNULL).returncode
        if rc == 2:
            continue	# an older build without this format
        assert rc == 0, f"{name}: status {rc}"
        size = os.path.getsize(path)
        sinks = (("/dev/null", argv, ["cat", path]),
                 ("pipe", ["sh", "-c", q(argv) + " | cat > /dev/null"],
                  ["sh", "-c", "cat " + q([path]) + " | cat > /dev/null"]))
        for sink, a, c in sinks:
            ti, tc = [], []
            for _ in range(RUNS):
                ti.append(wall(a))
                tc.append(wall(c))
            bi, bc = min(ti), min(tc)
            mi, mc = statistics.median(ti), statistics.median(tc)
            lines.append(f"{label:7} {name:6} {sink:10} {size / 1e6:6.1f}MB "
                         f"{bi * 1000:8.1f} /{mi * 1000:7.1f} ms "
                         f"{bc * 1000:7.1f} /{mc * 1000:6.1f} ms {bi / bc:8.1f}x "
                         f"{mi / mc:6.1f}x")


def main():
    args = sys.argv[1:]
    before = None
    if "--before" in args:
        i = args.index("--before")
        before = args[i + 1]
        del args[i:i + 2]
    iommush, src = args[0], args[1]
    out = args[2] if len(args) > 2 else os.path.join(src, "bench", "results-output.txt")
    lines = []
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, os.path.join(src, "tests/gen/mkimage.py"), tmp,
                        "--mappings", "1000000"], check=True)
        image = [os.path.join(tmp, "image.raw"), "-O", "dump.regs=" + os.path.join(tmp, "regs.txt")]
        startup = sorted(wall([iommush] + image + ["-c", "quit"]) for _ in range(RUNS))
        lines.append("mappings 00:01.0 of 1,000,000 scattered 4-KiB ranges "
                     f"(tests/gen/mkimage.py), best/median of {RUNS} alternating runs")
        lines.append(f"start-up (open the image, quit): best {startup[0] * 1000:.1f} ms, "
                     f"median {statistics.median(startup) * 1000:.1f} ms")
        lines.append(f"{'build':7} {'format':6} {'sink':10} {'size':>8} "
                     f"{'iommush best/median':>21} {'cat best/median':>18} "
                     f"{'ratio best':>9} {'median':>7}")
        rows("this", iommush, image, tmp, lines)
        if before:
            rows("before", before, image, tmp, lines)
        base = [iommush] + image + ["-c", "mappings 00:01.0"]
        for name, mode in (("jsonl", ["--jsonl"]), ("json", ["--json"])):
            fb = sorted(first_byte(base[:1] + mode + base[1:]) for _ in range(3))[0]
            lines.append(f"first byte on a pipe, {name}: {fb[0] * 1000:.1f} ms of "
                         f"{fb[1] * 1000:.1f} ms")
    lines.append(f"load average {os.getloadavg()[0]:.1f}; target: each ratio of 'this' within 10x")
    with open(out, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
