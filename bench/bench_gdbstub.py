#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""What a walk costs over QEMU's gdbstub (issue 3, "Cost").

Boots the Linux guest of tests/qemu (lab.py's cached kernel and initramfs:
e1000e, virtio-net, virtio-blk and nvme behind an emulated VT-d unit, TE, QI
and IR on) with -gdb, waits until its drivers are up, then measures through
iommush over the gdbstub, each in a fresh process (a cold page cache):

  connect      `show stats` alone: connection, DMAR discovery, nothing else;
  mappings     `mappings BDF` for every device, then `show stats`;
  translate    1,000 `translate BDF IOVA` at random (mapped IOVAs of every
               device, a tenth unmapped), then `show stats`;
  snapshot     `snapshot FILE`, whose page count is every table page
               reachable from the unit: the lower bound on what any walk
               must read.

Requests are the target's counters (`show stats`: backend read_phys calls and
register reads); wall time is the whole process, connection included. Each
read_phys of a cache miss is one whole 4 KiB page (two 'm' packets at QEMU
7.2's packet size); a walk at the lower bound has as many requests as
distinct table pages, which the cache misses count.

Usage: bench_gdbstub.py IOMMUSH [OUT] [--mode legacy|scalable ...]
OUT defaults to bench/results-gdbstub.txt. Exit 77 when QEMU or the cached
guest kernel (run tests/qemu/lab.py fetch) is missing.
"""
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'tests', 'qemu'))
import lab  # noqa: E402  (the lab's kernel cache, modes and readiness marker)

SKIP = 77


def boot(qemu, st, mode, tmp):
    console = os.path.join(tmp, 'console.log')
    gdb = os.path.join(tmp, 'gdb.sock')
    cmdline = ('console=ttyS0 intel_iommu=on %s loglevel=5 panic=-1 rdinit=/init'
               % lab.STRICT.get(mode, 'iommu.strict=1'))
    disk = os.path.join(tmp, 'disk.img')
    nvme = os.path.join(tmp, 'nvme.img')
    lab.make_disk(disk, 1 << 20, 'iommush-virtio-blk ')
    lab.make_disk(nvme, 1 << 20, 'iommush-nvme ')
    argv = [qemu, '-machine', 'q35,kernel-irqchip=split', '-cpu', 'max', '-m', '256',
            '-smp', '1', '-vga', 'none', '-display', 'none', '-no-reboot', '-nodefaults',
            '-device', lab.MODES[mode], '-kernel', st['kernel'], '-initrd', st['initrd'],
            '-append', cmdline, '-serial', 'file:' + console,
            '-netdev', 'user,id=n0,restrict=on', '-device', 'e1000e,netdev=n0',
            '-netdev', 'user,id=n1,restrict=on',
            '-device', 'virtio-net-pci,netdev=n1,iommu_platform=on,disable-legacy=on',
            '-drive', 'file=%s,format=raw,if=none,id=d0,readonly=on' % disk,
            '-device', 'virtio-blk-pci,drive=d0,iommu_platform=on,disable-legacy=on',
            '-drive', 'file=%s,format=raw,if=none,id=d1' % nvme,
            '-device', 'nvme,serial=ish0,drive=d1',
            '-gdb', 'unix:%s,server=on,wait=off' % gdb]
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, preexec_fn=lab._die_with_parent)
    deadline = time.time() + 180
    while True:
        if p.poll() is not None:
            raise RuntimeError('QEMU exited before the guest was ready')
        if time.time() > deadline:
            p.kill()
            raise RuntimeError('guest not ready in 180 s')
        try:
            with open(console, errors='replace') as f:
                if lab.MARKER in f.read():
                    break
        except FileNotFoundError:
            pass
        time.sleep(0.2)
    time.sleep(2)
    return p, 'gdb:unix:' + gdb


def ish(iommush, target, cmds, tmp):
    """Run cmds in one fresh iommush; returns (wall seconds, stdout lines, stats)."""
    path = os.path.join(tmp, 'cmds.txt')
    with open(path, 'w') as f:
        f.write('\n'.join(cmds + ['show stats']) + '\n')
    t0 = time.perf_counter()
    r = subprocess.run([iommush, target, '-O', 'gdbstub.leave=stopped', '--json', '-f', path],
                       capture_output=True, text=True, timeout=1200)
    wall = time.perf_counter() - t0
    lines = [l for l in r.stdout.splitlines() if l.strip()]
    if not lines:
        raise RuntimeError('iommush failed: %s' % r.stderr.strip()[:300])
    return wall, lines[:-1], json.loads(lines[-1]), r.returncode


def bench_mode(iommush, qemu, st, mode, out):
    tmp = tempfile.mkdtemp(prefix='iommush-bench-')
    p = None
    try:
        p, target = boot(qemu, st, mode, tmp)
        _, lines, _, _ = ish(iommush, target, ['devices'], tmp)
        bdfs = [d['bdf'] for d in json.loads(lines[0])]
        res = {}
        res['connect'] = ish(iommush, target, [], tmp)
        wall, lines, stats, rc = ish(iommush, target, ['mappings %s' % b for b in bdfs], tmp)
        res['mappings'] = (wall, lines, stats, rc)
        ranges = []
        for b, l in zip(bdfs, lines):
            for m in json.loads(l):
                ranges.append((b, m['iova'], m['size']))
        rnd = random.Random(1)
        cmds = []
        for i in range(1000):
            if i % 10 == 9 or not ranges:
                b = rnd.choice(bdfs)
                iova = rnd.randrange(0, 1 << 39) & ~0xfff
            else:
                b, iova, size = rnd.choice(ranges)
                iova += rnd.randrange(0, size) & ~0x7
            cmds.append('translate %s %#x' % (b, iova))
        res['translate'] = ish(iommush, target, cmds, tmp)
        snap = os.path.join(tmp, 'bench.snap')
        wall, lines, stats, rc = ish(iommush, target, ['snapshot %s' % snap], tmp)
        res['snapshot'] = (wall, lines, stats, rc)
        pages = json.loads(lines[0])['pages'] if lines else None
        nmap = sum(len(json.loads(l)) for l in res['mappings'][1])
        out.append('mode %s: %d devices (%s), %d mapped ranges; snapshot: %s table pages '
                   '(every page reachable from the unit)' % (mode, len(bdfs), ' '.join(bdfs),
                                                           nmap, pages))
        out.append('  %-10s %9s %9s %9s %9s %9s %9s' % ('run', 'wall ms', 'phys req', 'KiB read',
                                                       'reg req', 'hits', 'misses'))
        for k in ('connect', 'mappings', 'translate', 'snapshot'):
            wall, _, s, rc = res[k]
            out.append('  %-10s %9.0f %9d %9d %9d %9d %9d%s' % (
                k, wall * 1000, s['phys_requests'], s['phys_bytes'] // 1024,
                s['reg_requests'], s['cache_hits'], s['cache_misses'],
                '' if rc == 0 else '  (exit %d)' % rc))
        c = res['connect'][2]
        for k in ('mappings', 'translate'):
            s = res[k][2]
            req = s['phys_requests'] - c['phys_requests']
            miss = s['cache_misses'] - c['cache_misses']
            out.append('  %s beyond connecting: %d phys requests (about %d gdbstub packets) for '
                       '%d distinct table pages read, %d register reads' % (
                           k, req, 2 * req, miss, s['reg_requests'] - c['reg_requests']))
        out.append('')
    finally:
        if p:
            p.kill()
            p.wait()
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    args = sys.argv[1:]
    if not args:
        print(__doc__)
        return 2
    iommush = args[0]
    outpath = args[1] if len(args) > 1 and not args[1].startswith('--') else \
        os.path.join(HERE, 'results-gdbstub.txt')
    modes = [args[i + 1] for i, a in enumerate(args) if a == '--mode'] or ['legacy', 'scalable']
    qemu = os.environ.get('QEMU') or shutil.which('qemu-system-x86_64')
    st = lab.stamp_of(lab.cache_dir())
    if not qemu or not st or not os.path.exists(st.get('kernel', '')):
        print('SKIP: no QEMU or no cached guest kernel (tests/qemu/lab.py fetch)')
        return SKIP
    out = ['bench_gdbstub.py, %s, QEMU %s' % (
        time.strftime('%Y-%m-%d'),
        subprocess.run([qemu, '--version'], capture_output=True, text=True).stdout.split('\n')[0]),
        'load average at start: %.1f' % os.getloadavg()[0], '']
    for m in modes:
        bench_mode(iommush, qemu, st, m, out)
    text = '\n'.join(out) + '\n'
    sys.stdout.write(text)
    with open(outpath, 'w') as f:
        f.write(text)
    return 0


if __name__ == '__main__':
    sys.exit(main())
