#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""iommush against a running OS that drives the invalidation queue.

The lab guest (tests/qemu: Debian's 6.1 kernel, intel_iommu=on, QEMU q35
`-device intel-iommu,intremap=on,caching-mode=on[,x-scalable-mode=on]`)
gets one small virtio-blk disk behind the unit (iommu_platform=on) and a
heartbeat: its /init reads one 4 KiB block with O_DIRECT (busybox dd
iflag=direct) in a loop and prints `ISH-HB N` per read on the console.
Under caching mode Linux maps and unmaps (and so queues an invalidation)
for every read, so the heartbeat is the kernel's invalidation queue at work.
iommush then reaches the unit from outside through QEMU's gdbstub, and each
case watches the heartbeat for WINDOW seconds afterwards, the guest's log
for trouble, and QEMU's trace (vtd_inv_*, vtd_reg_write_gcmd/fectl) for
what the unit processed:

  r  read-only `units`, `iq`: exit 0, heartbeat alive (the baseline)
  a  `--write --yes invalidate iotlb global` (no --force): exit 1, a
     refusal naming the OS that drives the queue, no descriptor processed,
     heartbeat alive, no trouble
  c  `set reg FECTL 0x0`, `set reg GCMD 0x0` with --write --yes, no --force:
     each exit 1 with a refusal, no such register write traced, heartbeat
     alive, no trouble
  b  `--write --yes --force invalidate iotlb global`: exit 0, QEMU processed
     an iotlb-global descriptor during the command, the kernel's own
     invalidations are processed after it, heartbeat alive, no trouble

  test_osqueue.py IOMMUSH OUTDIR --mode legacy|scalable --cases r,a,c,b [-v]

All the cases given run one after another in one boot (refusals before
--force). Exit 0 pass, 1 fail, 77 skip (no QEMU, no guest kernel).
Standard library only.
"""

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
import ishtest  # noqa: E402
ishtest.use('qemu')
import lab  # noqa: E402

WINDOW = 15.0       # seconds of heartbeat watched after each command
MIN_BEATS = 5       # fewer reads than this in WINDOW: the heartbeat stopped
LAST_GAP = 5.0      # and the last read must be this recent at the window's end

HB = re.compile(r"^ISH-HB (\d+)\s*$", re.M)
HB_ERR = re.compile(r"^ISH-HB-ERR (\d+)", re.M)
# The guest's trouble, in its kernel log (console at loglevel 5).
TROUBLE = re.compile(r"DMAR:|soft lockup|rcu_sched|rcu: INFO|rcu_preempt|hung_task|"
                     r"blocked for more than|qi_submit_sync|Invalidation Time-out|"
                     r"Call Trace|BUG:|Oops|ISH-HB-ERR")

VERBOSE = False
G_IOMMUSH = None


def refusal_names_os_queue(stderr):
    """THE one place the invalidation refusal's wording is matched: the OS
    drives the queue, with the evidence (Linux's wait descriptor, whose
    status write goes to its desc_status[] with QI_DONE = 2), why, and the
    way out."""
    return re.search(r"invalidate iotlb: an operating system drives dmar0's invalidation "
                     r"queue \(slot \d+ holds a wait descriptor that writes 0x2 to 0x[0-9a-f]+, "
                     r"not iommush's\)\. A descriptor written at the hardware tail would leave "
                     r"the OS's software tail behind", stderr) is not None and \
        "give --force to submit cooperatively" in stderr


def register_refusal(stderr):
    """The register-write refusal on an OS-driven unit, without --force."""
    return re.search(r"an operating system drives dmar0 \(slot \d+ holds a wait descriptor "
                     r"that writes 0x2 to 0x[0-9a-f]+, not iommush's\): writing its registers "
                     r"under it can hang or corrupt that system; give --force", stderr) is not None


def log(msg):
    print("osqueue: " + msg, file=sys.stderr, flush=True)


class Failure(Exception):
    pass


RESULTS = []


def expect(cond, what):
    RESULTS.append((bool(cond), what))
    log(("ok     " if cond else "FAILED ") + what)
    return bool(cond)


# The heartbeat: one O_DIRECT block read per line, a counter per line.
# Nothing else in the guest does DMA (ish.busy=0, no network devices).
HOOK = r"""
echo 5 > /proc/sys/kernel/hung_task_timeout_secs 2>/dev/null
# where the kernel's queue submission lives (PVH boot: no KASLR), so a dead
# heartbeat's RIP can be named
grep -A1 ' qi_submit_sync$' /proc/kallsyms | sed 's/^/ISH-SYM /'
(
	n=0
	while :; do
		n=$((n + 1))
		if dd if=/dev/vda of=/dev/null bs=4k count=1 skip=$((n % 256)) iflag=direct 2>/dev/null; then
			echo "ISH-HB $n"
		else
			echo "ISH-HB-ERR $n"
		fi
		usleep 100000
	done
) &
"""

# QEMU 7.2 trace events for every descriptor the queue processes, the queue
# registers, and the register writes case c must not cause.
TRACE_EVENTS = ["vtd_inv_*", "vtd_reg_write_gcmd", "vtd_reg_write_fectl"]


class Guest:
    def __init__(self, out, mode, timeout):
        self.out = out
        self.mode = mode
        self.console = os.path.join(out, "console.log")
        self.trace = os.path.join(out, "trace.log")
        self.gdb = os.path.join(out, "gdb.sock")
        self.qmp_path = os.path.join(out, "qmp.sock")
        self.timeout = timeout
        self.proc = None
        self.qmp = None
        self.smp = 1

    def boot(self):
        q = lab.qemu_binary()
        lab.fetch(None)
        st = lab.stamp_of(lab.cache_dir())
        initrd = lab.derived_initrd(os.path.join(self.out, "initrd"), HOOK)
        disk = os.path.join(self.out, "disk.img")
        lab.make_disk(disk, 1 << 20, "iommush-heartbeat ")
        cmdline = ("console=ttyS0 intel_iommu=on iommu.strict=1 loglevel=5 panic=-1 "
                   "rdinit=/init ish.busy=0 watchdog_thresh=5 "
                   "rcupdate.rcu_cpu_stall_timeout=10 no_timer_check")
        cmd = [q, "-machine", "q35,kernel-irqchip=split", "-cpu", "max",
               "-m", "256", "-smp", str(self.smp), "-vga", "none", "-display", "none",
               "-no-reboot", "-nodefaults",
               "-device", lab.MODES[self.mode],
               "-kernel", st["kernel"], "-initrd", initrd, "-append", cmdline,
               "-serial", "file:" + self.console,
               "-qmp", "unix:%s,server=on,wait=off" % self.qmp_path,
               "-gdb", "unix:%s,server=on,wait=off" % self.gdb,
               "-drive", "file=%s,format=raw,if=none,id=d0,readonly=on" % disk,
               "-device", "virtio-blk-pci,drive=d0,iommu_platform=on,disable-legacy=on"]
        for ev in TRACE_EVENTS:
            cmd += ["-trace", "enable=" + ev]
        cmd += ["-trace", "file=" + self.trace]
        qlog = open(os.path.join(self.out, "qemu.log"), "w")
        qlog.write(" ".join(cmd) + "\n")
        qlog.flush()
        t0 = time.time()
        signal.signal(signal.SIGTERM, lab._on_signal)
        signal.signal(signal.SIGINT, lab._on_signal)
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=qlog, stderr=qlog,
                                     preexec_fn=lab._die_with_parent)
        lab._children.append(self.proc)
        self.qmp = lab.QMP(self.qmp_path, t0 + self.timeout, self.proc)
        while True:
            text = self.text()
            if HB.search(text) and lab.MARKER in text:
                break
            if self.proc.poll() is not None:
                raise Failure("QEMU exited (%d) during boot; see %s"
                              % (self.proc.returncode, self.console))
            if time.time() > t0 + self.timeout:
                raise Failure("no heartbeat after %d s; see %s" % (self.timeout, self.console))
            time.sleep(0.2)
        self.boot_s = time.time() - t0
        log("%s guest beating after %.1f s" % (self.mode, self.boot_s))

    def text(self):
        try:
            with open(self.console, errors="replace") as f:
                return f.read().replace("\r\n", "\n")
        except FileNotFoundError:
            return ""

    def trace_size(self):
        try:
            return os.path.getsize(self.trace)
        except FileNotFoundError:
            return 0

    def trace_text(self, start=0, end=None):
        with open(self.trace, "rb") as f:
            f.seek(start)
            data = f.read() if end is None else f.read(max(0, end - start))
        return data.decode(errors="replace")

    def watch(self, seconds):
        """Heartbeats that appear on the console during `seconds`:
        [(host time, counter)], and the console text written meanwhile."""
        start = len(self.text())
        seen = set(int(n) for n in HB.findall(self.text()))
        beats = []
        t_end = time.time() + seconds
        while time.time() < t_end:
            time.sleep(0.25)
            for n in HB.findall(self.text()[start:]):
                n = int(n)
                if n not in seen:
                    seen.add(n)
                    beats.append((time.time(), n))
        return beats, self.text()[start:]

    def stop(self):
        if self.qmp:
            try:
                self.qmp.cmd("quit", timeout=10)
            except (RuntimeError, OSError):
                pass
            self.qmp.close()
        if self.proc:
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                pass
        lab._kill_children()
        for n in ("qmp.sock", "gdb.sock", "disk.img"):
            try:
                os.unlink(os.path.join(self.out, n))
            except FileNotFoundError:
                pass


def run_iommush(g, iommush, opts, cmds):
    argv = [iommush] + opts + ["gdb:unix:" + g.gdb]
    for c in cmds:
        argv += ["-c", c]
    t0 = time.time()
    p = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    log("$ %s  -> exit %d in %.1f s" % (" ".join(argv[1:]), p.returncode, time.time() - t0))
    if VERBOSE or p.returncode:
        for line in (p.stdout.strip() + "\n" + p.stderr.strip()).strip().splitlines():
            log("  | " + line)
    return p


def heartbeat(g, what, console_start):
    """Watches WINDOW seconds; asserts the heartbeat lives and the log since
    console_start shows no trouble. Returns the number of reads."""
    beats, _ = g.watch(WINDOW)
    now = time.time()
    n = len(beats)
    last = now - beats[-1][0] if beats else None
    log("%s: %d reads in %.0f s%s" % (what, n, WINDOW,
        "" if last is None else ", last %.1f s before the end" % last))
    alive = expect(n >= MIN_BEATS and last is not None and last <= LAST_GAP,
           "%s: the heartbeat lives (%d reads in %.0f s, need >= %d and one in the last "
           "%.0f s)" % (what, n, WINDOW, MIN_BEATS, LAST_GAP))
    if not alive:
        post_mortem(g, what)
    trouble = [l for l in g.text()[console_start:].splitlines() if TROUBLE.search(l)]
    expect(not trouble, "%s: no trouble in the guest's log%s"
           % (what, "" if not trouble else ": " + " | ".join(trouble[:6])))
    return n


def post_mortem(g, what):
    """A dead heartbeat: what the unit's queue and the CPU look like now
    (read-only), for the log."""
    p = subprocess.run([G_IOMMUSH, "gdb:unix:" + g.gdb, "-c", "iq"], capture_output=True,
                       text=True, timeout=60)
    for line in p.stdout.splitlines()[:6]:
        log("%s: after: %s" % (what, line))
    try:
        regs = g.qmp.hmp("info registers")
        m = re.search(r"RIP=([0-9a-f]+)", regs)
        rip = int(m.group(1), 16) if m else None
        syms = [(int(a, 16), n) for a, n in
                re.findall(r"^ISH-SYM ([0-9a-f]+) \S (\S+)", g.text(), re.M)]
        where = ""
        if rip is not None and len(syms) == 2 and syms[0][0] <= rip < syms[1][0]:
            where = " = %s+%#x" % (syms[0][1], rip - syms[0][0])
        log("%s: after: the CPU is at RIP=%s%s" % (what, "?" if rip is None else "%#x" % rip,
                                                 where))
    except (RuntimeError, OSError):
        pass


def descriptors(text):
    """The queue's processed descriptors in a slice of QEMU's trace:
    [(event name, rest of line)]."""
    res = []
    for line in text.splitlines():
        m = re.search(r"\b(vtd_inv_desc\w*|vtd_reg_write_gcmd|vtd_reg_write_fectl)\b ?(.*)", line)
        if m:
            res.append((m.group(1), m.group(2)))
    return res


def case_r(g, iommush):
    c0, t0 = len(g.text()), g.trace_size()
    p = run_iommush(g, iommush, [], ["units", "iq"])
    t1 = g.trace_size()
    expect(p.returncode == 0, "r: read-only units and iq exit 0 (stderr %r)" % p.stderr.strip())
    ours = [d for d in descriptors(g.trace_text(t0, t1)) if d[0] == "vtd_inv_desc_iotlb_global"]
    expect(not ours, "r: no iotlb-global descriptor processed during the read-only run")
    n = heartbeat(g, "r (read-only)", c0)
    kernel_goes_on(g, "r", t1)
    return n


def kernel_goes_on(g, what, since):
    """The kernel's own IOTLB invalidations reach the unit after `since`
    (a trace offset): its queue still works."""
    kinds = {}
    for d in descriptors(g.trace_text(since)):
        if d[0] != "vtd_inv_desc_iotlb_global":
            kinds[d[0]] = kinds.get(d[0], 0) + 1
    expect(any(k.startswith("vtd_inv_desc_iotlb") for k in kinds),
           "%s: the kernel's own invalidations are processed afterwards: %s" % (what, kinds))


def case_a(g, iommush):
    c0, t0 = len(g.text()), g.trace_size()
    p = run_iommush(g, iommush, ["--write", "--yes"], ["invalidate iotlb global"])
    time.sleep(0.5)
    t1 = g.trace_size()
    expect(p.returncode == 1, "a: invalidate without --force exits 1 (got %d)" % p.returncode)
    expect(refusal_names_os_queue(p.stderr),
           "a: the refusal names the OS driving the queue: %r" % p.stderr.strip())
    ours = [d for d in descriptors(g.trace_text(t0, t1)) if d[0] == "vtd_inv_desc_iotlb_global"]
    expect(not ours, "a: QEMU processed no iotlb-global descriptor for the refused command "
           "(%d seen)" % len(ours))
    return heartbeat(g, "a (refused invalidate)", c0)


def case_c(g, iommush):
    c0 = len(g.text())
    for reg, ev in (("FECTL", "vtd_reg_write_fectl"), ("GCMD", "vtd_reg_write_gcmd")):
        t0 = g.trace_size()
        p = run_iommush(g, iommush, ["--write", "--yes"], ["set reg %s 0x0" % reg])
        time.sleep(0.5)
        t1 = g.trace_size()
        expect(p.returncode == 1, "c: set reg %s 0x0 without --force exits 1 (got %d)"
               % (reg, p.returncode))
        expect(register_refusal(p.stderr), "c: set reg %s says why: %r" % (reg, p.stderr.strip()))
        writes = [d for d in descriptors(g.trace_text(t0, t1)) if d[0] == ev]
        expect(not writes, "c: QEMU saw no %s write (%s)" % (reg, writes[:2]))
    return heartbeat(g, "c (refused register writes)", c0)


def case_b(g, iommush):
    c0, t0 = len(g.text()), g.trace_size()
    p = run_iommush(g, iommush, ["--write", "--yes", "--force"], ["invalidate iotlb global"])
    time.sleep(0.5)
    t1 = g.trace_size()
    expect(p.returncode == 0, "b: invalidate with --force exits 0 (stderr %r)" % p.stderr.strip())
    during = descriptors(g.trace_text(t0, t1))
    ours = [d for d in during if d[0] == "vtd_inv_desc_iotlb_global"]
    expect(len(ours) >= 1, "b: QEMU processed the iotlb-global descriptor during the command "
           "(%d; all: %s)" % (len(ours), sorted(set(d[0] for d in during))))
    n = heartbeat(g, "b (forced invalidate)", c0)
    kernel_goes_on(g, "b", t1)
    return n


CASES = {"r": case_r, "a": case_a, "c": case_c, "b": case_b}


def main():
    global VERBOSE, G_IOMMUSH
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("iommush")
    ap.add_argument("outdir")
    ap.add_argument("--mode", choices=["legacy", "scalable"], default="legacy")
    ap.add_argument("--cases", default="r,a,c,b")
    ap.add_argument("--timeout", type=int, default=240, help="boot deadline, s")
    ap.add_argument("--smp", type=int, default=1, help="guest CPUs")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    VERBOSE = args.verbose
    cases = [c for c in args.cases.split(",") if c]
    bad = [c for c in cases if c not in CASES]
    if bad:
        ap.error("unknown case %s" % bad)
    out = os.path.abspath(os.path.join(args.outdir, args.mode + "-" + "".join(cases)))
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    iommush = G_IOMMUSH = os.path.abspath(args.iommush)
    g = Guest(out, args.mode, args.timeout)
    g.smp = args.smp
    summary = {"mode": args.mode, "cases": cases}
    t0 = time.time()
    try:
        try:
            g.boot()
        except lab.Skip as e:
            log("SKIP: %s" % e)
            return 77
        summary["boot_s"] = round(g.boot_s, 1)
        beats, _ = g.watch(5)
        summary["pre_reads_5s"] = len(beats)
        expect(len(beats) >= 2, "the heartbeat beats before any iommush (%d reads in 5 s)"
               % len(beats))
        for i, c in enumerate(cases):
            if i:
                # an earlier case may have killed the guest: say so, not
                # blame this one
                beats, _ = g.watch(3)
                if not expect(beats, "%s: the guest still beats before the case (%d reads "
                              "in 3 s)" % (c, len(beats))):
                    break
            summary["reads_" + c] = CASES[c](g, iommush)
    except Failure as e:
        expect(False, str(e))
    finally:
        g.stop()
    summary["total_s"] = round(time.time() - t0, 1)
    summary["failed"] = [w for ok, w in RESULTS if not ok]
    with open(os.path.join(out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
    log("summary: %s" % json.dumps({k: v for k, v in summary.items() if k != "failed"}))
    nbad = len(summary["failed"])
    log("%d checks, %d failed" % (len(RESULTS), nbad))
    return 1 if nbad else 0


if __name__ == "__main__":
    sys.exit(main())
