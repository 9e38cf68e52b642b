#!/usr/bin/env python3
"""Print one plain 'N passed, N failed' line from meson's test logs.

Usage: summary.py TESTLOG.json [TESTLOG.json...]
Each file is one `meson test` run (build variants run the same tests again);
every test result counts once per run. Exit status: 1 if any test failed.
"""
import json
import sys

passed = failed = skipped = 0
for path in sys.argv[1:]:
    try:
        with open(path) as f:
            for line in f:
                line = line.strip()
                if not line:
                    continue
                r = json.loads(line).get("result")
                if r in ("OK", "EXPECTEDFAIL"):
                    passed += 1
                elif r == "SKIP":
                    skipped += 1
                else:
                    failed += 1
    except FileNotFoundError:
        print(f"summary: no test log {path}: that run did not happen", file=sys.stderr)
        failed += 1
line = f"{passed} passed, {failed} failed"
if skipped:
    line += f", {skipped} skipped"
print(line)
sys.exit(1 if failed else 0)
