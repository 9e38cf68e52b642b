#!/usr/bin/env python3
"""The command table, `help` and iommush(1) cover the same commands.

Usage: man-coverage.py IOMMUSH MANPAGE
`help --json` lists the table; every entry must have a working `help NAME`
with a synopsis and a summary, and a .TP entry in the man page whose synopsis
starts with its name; the man page must have no command the table lacks.
"""
import json
import os
import re
import subprocess
import sys

iommush, manpage = sys.argv[1], sys.argv[2]
failed = passed = 0


def check(cond, what):
    global failed, passed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAILED:", what)


os.environ["IOMMUSH_PLUGIN_PATH"] = ""  # built-in commands only, as in the man page
table = json.loads(subprocess.run([iommush, "--json", "-c", "help"], capture_output=True,
                                  text=True, check=True).stdout)
names = [c["name"] for c in table]
check(len(names) == len(set(names)), "command names are unique")
with open(manpage) as f:
    man = f.read()
section = man.split(".SH COMMANDS", 1)[1].split(".SH ", 1)[0]
man_names = re.findall(r"^\.TP\n\.B (\S+)", section, re.M)
for n in names:
    h = subprocess.run([iommush, "--json", "-c", "help " + n], capture_output=True, text=True)
    check(h.returncode == 0, f"help {n} exits 0")
    if h.returncode == 0:
        d = json.loads(h.stdout)
        check(d["name"] == n and d["synopsis"] and d["summary"], f"help {n} has synopsis and summary")
    check(n.replace("-", "\\-") in man_names, f"{n} is in iommush(1)")
for m in man_names:
    check(m.replace("\\-", "-") in names, f"iommush(1) entry {m} is a command")
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
