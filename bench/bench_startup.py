#!/usr/bin/env python3
"""Start-up benchmark: time from exec to the shell having done its first
command on the demo snapshot (issue: under 20 ms).

Usage: bench_startup.py IOMMUSH [RESULTS]     (RESULTS default bench/results-startup.txt)

Each figure is the median of 50 runs; the baseline is spawning /bin/true the
same way, so the ratio says what iommush itself costs whatever the machine's
load. Writes the figures to RESULTS and prints them.
"""
import os
import statistics
import subprocess
import sys
import time


def median_ms(argv, n=50):
    """Median wall time and median CPU time (user+sys of the child), in ms."""
    wall, cpu = [], []
    for _ in range(n):
        t = time.perf_counter()
        p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _, _, ru = os.wait4(p.pid, 0)
        wall.append((time.perf_counter() - t) * 1000)
        cpu.append((ru.ru_utime + ru.ru_stime) * 1000)
    return statistics.median(wall), statistics.median(cpu)


def main():
    iommush = sys.argv[1]
    out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "results-startup.txt")
    base = median_ms(["/bin/true"])
    runs = [("iommush --demo -c quit", [iommush, "--demo", "-c", "quit"]),
            ("iommush --demo -c units", [iommush, "--demo", "-c", "units"]),
            ("iommush --demo -c devices", [iommush, "--demo", "-c", "devices"])]
    lines = [f"{'':32} {'wall':>9} {'cpu':>9}  wall vs /bin/true",
             f"{'spawn /bin/true':32} {base[0]:6.2f} ms {base[1]:6.2f} ms  (baseline)"]
    quit_ms = None
    for name, argv in runs:
        w, c = median_ms(argv)
        quit_ms = quit_ms if quit_ms is not None else w - base[0]
        lines.append(f"{name:32} {w:6.2f} ms {c:6.2f} ms  {w / base[0]:5.1f}x")
    lines.append(f"start-up (quit minus spawn) {quit_ms:.2f} ms: target 20 ms "
                 f"{'met' if quit_ms < 20 else 'MISSED'}; load average {os.getloadavg()[0]:.1f}")
    with open(out, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
