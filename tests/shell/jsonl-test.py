#!/usr/bin/env python3
"""JSON Lines (--jsonl, set json lines) and the streamed listings.

Usage: jsonl-test.py IOMMUSH SRCDIR

On the demo snapshot (a real QEMU guest) and on a generated image with
20,000 scattered 4-KiB mappings (tests/gen/mkimage.py, whose layout is the
oracle; 3 MB of JSON, dozens of buffer flushes): every listing command's --jsonl output is one complete JSON value
per line (Python's json module, line by line, and jq -c when installed), and
line i equals element i of the same command's --json array (for irte, entry
i of the units' "irtes", with its unit); the text of the big listing is,
line by line, what the image holds; a reader that closes the pipe early ends
iommush quietly with status 0 and nothing runs after it, while a full disk
is reported with status 1.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

passed = failed = 0
ENV = dict(os.environ, IOMMUSH_PLUGIN_PATH="", NO_COLOR="1")


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAILED:", what)


def run(argv, stdin=None):
    p = subprocess.run(argv, capture_output=True, env=ENV, input=stdin)
    return p.returncode, p.stdout, p.stderr


def lines_of(out):
    """Each line parsed on its own: a line that is not one whole JSON value fails."""
    text = out.decode()
    if not text:
        return []
    if not text.endswith("\n"):
        return None
    vals = []
    for ln in text[:-1].split("\n"):
        try:
            vals.append(json.loads(ln))
        except ValueError:
            return None
    return vals


def expected(cmd, arr):
    if cmd.startswith("irte") and "--msi" not in cmd:
        return [dict({"unit": u["unit"]}, **e) for u in arr for e in u["irtes"]]
    return arr


def jq_check(what, array_out, lines_out):
    jq = shutil.which("jq")
    if not jq:
        print(f"SKIP: jq is not installed ({what})")
        return
    # jq -c reads the stream value by value and writes each back on a line of its own.
    p = subprocess.run([jq, "-c", "."], input=lines_out, capture_output=True)
    check(p.returncode == 0, f"{what}: jq -c parses the lines ({p.stderr[:200]!r})")
    check(p.stdout.count(b"\n") == lines_out.count(b"\n"), f"{what}: jq -c finds one value a line")
    if p.stdout == lines_out:
        # jq's own compact form is ours, byte for byte; then slurping the
        # lines must give jq's reading of the array, checked below only
        # where the bytes differ (jq 1.6 turns integers above 2^53 into doubles).
        a = subprocess.run([jq, "-c", ".[]"], input=array_out, capture_output=True).stdout
        if "irte" not in what:
            check(a == lines_out, f"{what}: jq -c '.[]' of the --json array gives the lines")
        return
    s = subprocess.run([jq, "-c", "-s", "."], input=lines_out, capture_output=True).stdout
    prog = "[.[] | .unit as $u | .irtes[] | {unit: $u} + .]" if "irte" in what else "."
    a = subprocess.run([jq, "-c", prog], input=array_out, capture_output=True).stdout
    check(s == a, f"{what}: jq -s of the lines equals jq's reading of the --json array")


def compare(base, cmd, what):
    rc_a, arr_out, err_a = run(base + ["--json", "-c", cmd])
    rc_l, lines_out, err_l = run(base + ["--jsonl", "-c", cmd])
    check(rc_a == rc_l, f"{what}: same status with --json ({rc_a}) and --jsonl ({rc_l})")
    check(err_a == err_l, f"{what}: same warnings with --json and --jsonl")
    arr = json.loads(arr_out)
    vals = lines_of(lines_out)
    check(vals is not None, f"{what}: every --jsonl line is one complete JSON value")
    exp = expected(cmd, arr)
    check(vals == exp, f"{what}: line i equals element i of the --json array "
          f"({len(vals or [])} lines, {len(exp)} elements)")
    # The shell setting gives the same bytes as the option.
    _, set_out, _ = run(base + ["-c", "set json lines", "-c", cmd])
    check(set_out == lines_out, f"{what}: 'set json lines' writes what --jsonl writes")
    jq_check(what, arr_out, lines_out)
    return exp


def main():
    iommush, src = sys.argv[1], sys.argv[2]
    demo = [iommush, "--demo"]

    # --- the demo: every listing command ---
    _, out, _ = run(demo + ["--json", "-c", "devices"])
    devices = json.loads(out)
    check(len(devices) > 0, "the demo has devices")
    for d in devices:
        compare(demo, "mappings " + d["bdf"], "demo mappings " + d["bdf"])
        if d.get("pasids"):
            compare(demo, "pasid " + d["bdf"], "demo pasid " + d["bdf"])
    _, out, _ = run(demo + ["--json", "-c", "mappings 00:02.0"])
    hpa = json.loads(out)[1]["hpa"] + 0x10
    who = compare(demo, "who-maps %#x" % hpa, "demo who-maps")
    check(len(who) > 0, "who-maps finds the device that maps the HPA")
    compare(demo, "who-maps 0x1", "demo who-maps of an address nobody maps")
    compare(demo, "devices", "demo devices")
    irtes = compare(demo, "irte all", "demo irte all")
    check(len(irtes) > 1 and all(e["present"] for e in irtes), "irte all lists present entries")
    compare(demo, "irte 0", "demo irte 0")
    compare(demo, "pci", "demo pci")
    # Commands that do not list still write their one value, on one line.
    for cmd in ["units", "translate 00:02.0 0xffebe123", "context 00:02.0"]:
        _, a, _ = run(demo + ["--json", "-c", cmd])
        _, l, _ = run(demo + ["--jsonl", "-c", cmd])
        check(l.count(b"\n") == 1 and json.loads(l) == json.loads(a),
              f"demo {cmd}: one line, the --json value")
    _, l, _ = run(demo + ["--jsonl", "-c", "show"])
    check(json.loads(l)["mode"] == "jsonl", "show says the mode is jsonl")
    # set json array goes back; set json with another word is refused.
    _, out, _ = run(demo + ["-c", "set json lines", "-c", "set json array", "-c", "devices"])
    check(json.loads(out) == devices, "'set json array' gives the array again")
    rc, _, err = run(demo + ["-c", "set json tabular"])
    check(rc == 1 and b"json is 'lines' or 'array'" in err, "set json refuses other forms")

    # --- a big generated image: 100,000 scattered ranges ---
    with tempfile.TemporaryDirectory() as tmp:
        n = 20000
        subprocess.run([sys.executable, os.path.join(src, "tests/gen/mkimage.py"), tmp,
                        "--mappings", str(n)], check=True)
        big = [iommush, os.path.join(tmp, "image.raw"), "-O",
               "dump.regs=" + os.path.join(tmp, "regs.txt")]
        ranges = compare(big, "mappings 00:01.0", "big mappings")
        iova0, hpa0 = 0x100000000, 0x4000000000
        want = [{"iova": iova0 + i * 4096, "hpa": hpa0 + i * 8192, "size": 4096,
                 "page_size": 4096, "read": True, "write": True, "exec": False,
                 "user": True, "snp": False, "emt": 0, "pass_through": False}
                for i in range(n)]
        check(ranges == want, f"big mappings: the {n} ranges the image holds, in order")
        compare(big, "mappings 00:01.0 0x100000000+0x10000", "big mappings of a range")
        compare(big, "who-maps %#x" % (hpa0 + 4242 * 8192 + 5), "big who-maps")
        # The text writer, line by line, against the image's layout.
        rc, out, _ = run(big + ["-c", "mappings 00:01.0"])
        text = out.decode().split("\n")
        want_text = ["0x%016x-0x%016x -> 0x%012x %6s (4K pages) R+ W+ X-" %
                     (iova0 + i * 4096, iova0 + i * 4096 + 4095, hpa0 + i * 8192, "4K")
                     for i in range(n)]
        check(rc == 0 and text[:n] == want_text, "big mappings text: every line as printf made it")
        pages = 2 + (n + 511) // 512 // 512 + 1 + (n + 511) // 512
        check(text[n:] == [f"{n} ranges, {n} leaf entries, {pages} table pages", ""],
              f"big mappings text: the summary line ({text[n:]!r})")

        # Any other write error is one: reported, status 1.
        if os.path.exists("/dev/full"):
            rc, _, err = run(big + ["-c", "output /dev/full", "-c", "mappings 00:01.0"])
            check(rc == 1 and err == b"iommush: mappings: write error: No space left on device\n",
                  f"a full disk is reported, status 1 (got {rc}, {err[:200]!r})")

        # A reader that stops early: quiet, status 0, and the session ends.
        for mode in ([], ["--json"], ["--jsonl"]):
            marker = os.path.join(tmp, "after")
            p = subprocess.Popen(big + mode + ["-c", "mappings 00:01.0", "-c", "output " + marker,
                                               "-c", "echo after"],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV)
            head = p.stdout.read(4096)
            p.stdout.close()
            err = p.stderr.read()
            rc = p.wait(timeout=60)
            what = f"closed pipe {' '.join(mode) or 'text'}"
            check(len(head) == 4096, f"{what}: the listing started")
            check(rc == 0, f"{what}: exit status 0 (got {rc})")
            check(err == b"", f"{what}: nothing on stderr (got {err[:200]!r})")
            check(not os.path.exists(marker), f"{what}: no command runs after it")
            # like `| head -1` in a shell
            p = subprocess.run(["bash", "-c", '"$@" | head -n 1; echo "status ${PIPESTATUS[0]}"',
                                "sh"] + big + mode + ["-c", "mappings 00:01.0"],
                               capture_output=True, env=ENV)
            check(p.stdout.endswith(b"\nstatus 0\n") and p.stdout.count(b"\n") == 2 and
                  p.stderr == b"", f"{what}: | head -n 1 is quiet, status 0 ({p.stdout[-40:]!r})")
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
