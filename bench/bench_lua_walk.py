#!/usr/bin/env python3
"""Lua iteration of 1,000,000 mappings against the C walk plus its callbacks.

Usage: bench_lua_walk.py BUILDDIR SRCDIR [OUT]

Both sides walk 1,000,000 scattered 4-KiB second-level leaves of one
legacy-mode device on the mem backend (4-level tables, 1,954 leaf tables):
the C side is bench_walk's "scattered" variant (ish_mappings() with a
callback that counts), the Lua side tests/lua/bench_mappings.lua
(`for m in t:mappings(...)` summing m.size), timed by its own os.clock()
around the loop only. They run alternately, RUNS times each, in one run, and
the ratio is Lua's best over C's best (and the medians), so the machine's
load cancels out as far as it can.
"""
import os
import re
import statistics
import subprocess
import sys
import tempfile

RUNS = 5


def c_walk(build, tmp):
    out = os.path.join(tmp, "walk.txt")
    subprocess.run([os.path.join(build, "bench", "bench_walk"), out], check=True,
                   stdout=subprocess.DEVNULL)
    with open(out) as f:
        m = re.search(r"^scattered .*best=([0-9.]+)ms", f.read(), re.M)
    return float(m.group(1)) / 1e3


def lua_walk(build, src):
    env = dict(os.environ, LUA_PATH=os.path.join(src, "tests", "lua", "?.lua") + ";;")
    p = subprocess.run([os.path.join(build, "iommush"), "-f",
                        os.path.join(src, "tests", "lua", "bench_mappings.lua")],
                       env=env, check=True, capture_output=True, text=True)
    m = re.search(r"iterated 1000000 mappings, 4096000000 bytes, in ([0-9.]+) s", p.stdout)
    return float(m.group(1))


def main():
    build, src = sys.argv[1], sys.argv[2]
    out = sys.argv[3] if len(sys.argv) > 3 else os.path.join(src, "bench", "results-lua-walk.txt")
    cs, ls = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(RUNS):
            cs.append(c_walk(build, tmp))
            ls.append(lua_walk(build, src))
    lines = [
        f"1,000,000 scattered 4-KiB mappings, {RUNS} alternating runs "
        "(C: best of bench_walk's 5 walks per run)",
        f"C walk + callbacks: best {min(cs) * 1e3:.1f} ms, median {statistics.median(cs) * 1e3:.1f} ms",
        f"Lua t:mappings loop: best {min(ls) * 1e3:.1f} ms, median {statistics.median(ls) * 1e3:.1f} ms",
        f"ratio Lua/C: best {min(ls) / min(cs):.1f}x, median "
        f"{statistics.median(ls) / statistics.median(cs):.1f}x",
    ]
    with open(out, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
