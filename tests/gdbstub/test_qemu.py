#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The gdbstub backend against a real QEMU.

Starts qemu-system-x86_64 -machine q35 -device intel-iommu (no kernel: SeaBIOS
builds the ACPI DMAR table), with its gdbstub on a unix socket and QMP on
another, and holds what iommush reads against QEMU's own monitor (QMP
human-monitor-command "xp", pmemsave, query-status):

  - units: found through the guest's DMAR, base 0xfed90000, VER 0x10;
  - CAP and ECAP equal `xp /2gx 0xfed90008`;
  - a FECTL write is refused without --write and visible through `xp` with it;
    an 8-byte write to FECTL (which would abort QEMU) is refused;
  - 1 MiB of guest RAM read through the page cache equals pmemsave's bytes,
    with the number of 'm' requests and the time it took;
  - the guest is left running (gdbstub.leave=running) or paused (=stopped);
  - resume/stop while connected;
  - TCP (gdb:127.0.0.1:PORT), and a guest whose firmware has not run yet
    (no DMAR: a clear error).

Usage: test_qemu.py IOMMUSH GDBSTUB_PROBE [--bench-out FILE]
Exit status 77 (skipped) when no qemu-system-x86_64 is installed.
QEMU is killed on every path (finally, SIGTERM, and PR_SET_PDEATHSIG).
"""
import ctypes
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

SKIP = 77
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
import ishtest  # noqa: E402
check = ishtest.Checks()
FAILURES = check.failures



def die_with_parent():
    # If the test runner dies, QEMU dies with it.
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


class Qemu:
    def __init__(self, binary, tmp, name, gdb='unix', extra=(), iommu='intel-iommu', mem=64):
        self.tmp = tmp
        self.qmp_path = os.path.join(tmp, name + '.qmp')
        if gdb == 'unix':
            self.gdb_path = os.path.join(tmp, name + '.gdb')
            gdbarg = 'unix:%s,server=on,wait=off' % self.gdb_path
            self.target = 'gdb:unix:' + self.gdb_path
        else:
            s = socket.socket()
            s.bind(('127.0.0.1', 0))
            port = s.getsockname()[1]
            s.close()
            self.gdb_path = None
            gdbarg = 'tcp:127.0.0.1:%d,server=on,wait=off' % port
            self.target = 'gdb:127.0.0.1:%d' % port
        self.argv = [binary, '-machine', 'q35', '-device', iommu, '-m', str(mem),
                     '-nographic', '-display', 'none', '-monitor', 'none', '-serial', 'none',
                     '-nodefaults', '-gdb', gdbarg,
                     '-qmp', 'unix:%s,server=on,wait=off' % self.qmp_path] + list(extra)
        self.proc = None
        self.qmp = None

    def start(self):
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     preexec_fn=die_with_parent)
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError('qemu exited: ' + self.proc.stderr.read().decode(errors='replace'))
            if os.path.exists(self.qmp_path):
                try:
                    s = socket.socket(socket.AF_UNIX)
                    s.connect(self.qmp_path)
                    self.qmp = s.makefile('rw')
                    json.loads(self.qmp.readline())
                    self.cmd('qmp_capabilities')
                    return
                except OSError:
                    s.close()
            time.sleep(0.05)
        raise RuntimeError('qemu did not open its QMP socket')

    def cmd(self, name, **args):
        msg = {'execute': name}
        if args:
            msg['arguments'] = args
        self.qmp.write(json.dumps(msg) + '\n')
        self.qmp.flush()
        while True:
            line = self.qmp.readline()
            if not line:
                raise RuntimeError('QMP connection closed (did qemu die?)')
            r = json.loads(line)
            if 'return' in r:
                return r['return']
            if 'error' in r:
                raise RuntimeError('QMP %s: %s' % (name, r['error']))

    def hmp(self, line):
        return self.cmd('human-monitor-command', **{'command-line': line})

    def xp(self, fmt, addr):
        """Values from `xp /FMT ADDR`, as integers."""
        out = self.hmp('xp /%s %#x' % (fmt, addr))
        vals = []
        for l in out.splitlines():
            vals += [int(v, 16) for v in re.findall(r'0x[0-9a-fA-F]+', l.split(':', 1)[1])]
        return vals

    def status(self):
        return self.cmd('query-status')['status']

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
        if self.proc:
            self.proc.wait()
            self.proc.stderr.close()
        if self.qmp:
            try:
                self.qmp.close()
            except OSError:
                pass


def run(argv, timeout=60):
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def wait_for_dmar(iommush, vm):
    """The firmware needs a moment to build the ACPI tables: retry until units works."""
    deadline = time.time() + 30
    while True:
        rc, out, err = run([iommush, vm.target, '--json', '-c', 'units'])
        if rc == 0 or time.time() > deadline:
            return rc, out, err
        time.sleep(0.5)


def probe_values(out):
    vals = {}
    for m in re.finditer(r'^reg (0x[0-9a-f]+)=(0x[0-9a-f]+)$', out, re.M):
        vals[int(m.group(1), 16)] = int(m.group(2), 16)
    return vals


def test_main_guest(iommush, probe, vm, bench_out):
    rc, out, err = wait_for_dmar(iommush, vm)
    check(rc == 0, 'iommush --json -c units exits 0 (%s)' % err.strip())
    units = json.loads(out) if rc == 0 else []
    check(len(units) == 1, 'one remapping unit found through the guest DMAR table')
    if units:
        check(units[0]['base'] == 0xfed90000, 'unit base is 0xfed90000')
        check(units[0]['version'] == '1.0', 'VER reads 1.0 (0x10)')
    check(vm.status() == 'running', 'guest left running after iommush (leave=running)')

    rc, out, err = run([iommush, vm.target, '-c', 'units'])
    check(rc == 0 and re.search(r'^dmar0\s+0000\s+0xfed90000\s+1\.0\s', out, re.M) is not None,
          'text units line: dmar0 0000 0xfed90000 1.0')

    rc, _, _ = run([iommush, vm.target, '-c', 'help regs'])
    if rc == 0:
        rc, out, err = run([iommush, vm.target, '-c', 'regs'])
        check(rc == 0 and 'CAP' in out, 'regs runs and shows CAP (%s)' % err.strip())
    else:
        print('note   no regs command in this shell yet: registers checked by gdbstub_probe only')

    # Registers against the monitor.
    rc, out, err = run([probe, vm.target, 'units', 'reg', '0', '0', '32', 'reg', '0', '8', '64',
                        'reg', '0', '0x10', '64', 'reg', '0', '0xc', '32'])
    check(rc == 0, 'probe reads VER, CAP, ECAP (%s)' % out.strip())
    vals = probe_values(out)
    cap, ecap = vm.xp('2gx', 0xfed90008)
    print('       xp: CAP=%#x ECAP=%#x; iommush: CAP=%#x ECAP=%#x'
          % (cap, ecap, vals.get(8, -1), vals.get(0x10, -1)))
    check(vals.get(0) == 0x10, 'VER = 0x10')
    check(vals.get(8) == cap, 'CAP (one 8-byte read) equals xp')
    check(vals.get(0x10) == ecap, 'ECAP equals xp')
    check(vals.get(0xc) == cap >> 32, 'CAP high dword (4-byte read) equals xp')

    # Writes: FECTL (0x38) is 0x80000000 (IM) after reset.
    fectl0 = vm.xp('1wx', 0xfed90038)[0]
    rc, out, _ = run([probe, vm.target, 'wreg', '0', '0x38', '32', '0'])
    check(rc == 1 and 'wreg error read-only' in out, 'FECTL write refused without --write')
    check(vm.xp('1wx', 0xfed90038)[0] == fectl0, 'FECTL unchanged after the refused write')
    rc, out, _ = run([probe, vm.target, '--write', 'wreg', '0', '0x38', '32', '0'])
    check(rc == 0 and 'wreg ok' in out, 'FECTL write with --write')
    check(vm.xp('1wx', 0xfed90038)[0] == 0, 'FECTL = 0 through xp after the write')
    rc, out, _ = run([probe, vm.target, '--write', 'wreg', '0', '0x38', '64', '0'])
    check(rc == 1 and 'wreg error invalid' in out, '8-byte FECTL write refused')
    check(vm.proc.poll() is None and vm.status() == 'running', 'qemu still alive and running')
    rc, out, _ = run([probe, vm.target, '--write', 'wreg', '0', '0x38', '32', hex(fectl0)])
    check(rc == 0 and vm.xp('1wx', 0xfed90038)[0] == fectl0, 'FECTL restored to %#x' % fectl0)

    # 1 MiB of RAM against pmemsave, with the guest left paused in between.
    ours = os.path.join(vm.tmp, 'ours.bin')
    theirs = os.path.join(vm.tmp, 'theirs.bin')
    rc, out, _ = run([probe, vm.target, '-O', 'gdbstub.leave=stopped',
                      'read', '0x100000', '0x100000', ours])
    check(rc == 0, 'probe reads 1 MiB at 0x100000 (%s)' % out.strip())
    check(vm.status() == 'paused', 'guest left paused (leave=stopped)')
    vm.cmd('pmemsave', val=0x100000, size=0x100000, filename=theirs)
    same = os.path.exists(ours) and open(ours, 'rb').read() == open(theirs, 'rb').read()
    check(same, '1 MiB read through the gdbstub equals pmemsave')
    m = re.search(r'read bytes=(\d+) m=(\d+) phys_requests=(\d+) us=(\d+)', out)
    if m:
        nbytes, nm, npr, us = (int(x) for x in m.groups())
        check(nm == 512 and npr == 256, "1 MiB costs 256 page reads = 512 'm' requests")
        line = ("1 MiB of guest RAM through the cache: %d 'm' requests (%d pages), %.1f ms, "
                "%.1f MiB/s" % (nm, npr, us / 1000, nbytes / (1 << 20) / (us / 1e6)))
        print('bench  ' + line)
        if bench_out:
            with open(bench_out, 'a') as f:
                f.write(line + '\n')
    vm.cmd('cont')

    # Resume and stop while connected; leave=running afterwards.
    rc, out, _ = run([probe, vm.target, 'resume', 'stop', 'reg', '0', '0', '32'])
    check(rc == 0 and 'resume ok' in out and 'stop ok' in out and probe_values(out).get(0) == 0x10,
          'resume, stop, then a register read')
    check(vm.status() == 'running', 'guest running after the probe detached')


def test_tcp_and_early(iommush, vm):
    # Started with -S: the firmware has not run, guest memory holds no ACPI tables.
    rc, out, err = run([iommush, vm.target, '-O', 'gdbstub.leave=stopped', '-c', 'units'])
    check(rc != 0 and 'DMAR' in err and 'gdbstub.regbase' in err,
          'no DMAR yet: a clear error naming gdbstub.regbase (%s)' % err.strip())
    rc, out, err = run([iommush, vm.target, '-O', 'gdbstub.regbase=0xfed90000', '-O',
                        'gdbstub.leave=stopped', '--json', '-c', 'units'])
    check(rc == 0 and json.loads(out)[0]['version'] == '1.0',
          'gdbstub.regbase names the unit without a DMAR table')
    vm.cmd('cont')
    rc, out, err = wait_for_dmar(iommush, vm)
    check(rc == 0 and json.loads(out)[0]['base'] == 0xfed90000,
          'over TCP once the firmware ran: unit at 0xfed90000 (%s)' % err.strip())


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    iommush, probe = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    bench_out = None
    if '--bench-out' in sys.argv:
        bench_out = sys.argv[sys.argv.index('--bench-out') + 1]
    qemu = shutil.which(os.environ.get('QEMU', 'qemu-system-x86_64'))
    if not qemu:
        print('skipped: no qemu-system-x86_64')
        return SKIP
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    tmp = tempfile.mkdtemp(prefix='ish-gdbstub-')
    vms = []
    try:
        vm = Qemu(qemu, tmp, 'main')
        vms.append(vm)
        vm.start()
        test_main_guest(iommush, probe, vm, bench_out)
        vm2 = Qemu(qemu, tmp, 'tcp', gdb='tcp', extra=['-S'])
        vms.append(vm2)
        vm2.start()
        test_tcp_and_early(iommush, vm2)
    except Exception as e:  # report, then clean up below
        check(False, 'unexpected: %r' % e)
    finally:
        for vm in vms:
            vm.kill()
        shutil.rmtree(tmp, ignore_errors=True)
    print('%d failed' % len(FAILURES))
    return 1 if FAILURES else 0


if __name__ == '__main__':
    sys.exit(main())
