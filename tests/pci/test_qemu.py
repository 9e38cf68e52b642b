#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Bridges and DMAR scopes through them, on a real QEMU (firmware only).

QEMU q35 with -device intel-iommu, pcie-root-ports at 00:03.0 and 00:04.0
and an edu device behind each; SeaBIOS programs the ports' bus numbers. Over
the gdbstub:

  - `pci` lists both root ports with the secondary and subordinate buses the
    monitor's `info pci` and ECAM (`xp` at 0xb0000000 + BDF << 12 + 0x18)
    give, and each edu [1234:11e8] on its port's secondary bus;
  - with -O acpi.dmar= the table compiled by iasl from bridges.dsl, `dmar`
    resolves the scope path 03.0,00.0 to the edu's real BDF, the
    sub-hierarchy scope 04.0 to its bus range, and says why the paths
    through 00:05.0 (absent) and 00:1f.0 (no bridge) do not resolve;
  - `pci` and `context`/`translate` (ish_unit_for_device) pick dmar0 for
    both edus through those scopes, and the INCLUDE_PCI_ALL unit dmar1 for
    the rest;
  - a snapshot of the guest keeps every function's config space: `pci` and
    `dmar` on it answer as on the guest.

Usage: test_qemu.py IOMMUSH SOURCE_ROOT. Exit status 77 without
qemu-system-x86_64 or iasl. QEMU is killed on every path.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
import ishtest  # noqa: E402
ishtest.use('gdbstub')
from test_qemu import Qemu, check, FAILURES  # noqa: E402  (the gdbstub test's QEMU driver)

SKIP = 77
ECAM = 0xb0000000


def run(argv, timeout=60):
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def info_pci_bridges(text):
    """{(bus, dev, fn): (primary, secondary, subordinate)} from HMP `info pci`."""
    out = {}
    for m in re.finditer(r'Bus\s+(\d+), device\s+(\d+), function (\d+):(.*?)(?=\n\s*Bus\s+\d+, device|\Z)',
                         text, re.S):
        b = re.search(r'BUS (\d+)\.\s+secondary bus (\d+)\.\s+subordinate bus (\d+)\.', m.group(4))
        if b:
            out[(int(m.group(1)), int(m.group(2)), int(m.group(3)))] = tuple(map(int, b.groups()))
    return out


def ecam_dword(vm, bus, dev, fn, off):
    return vm.xp('1wx', ECAM + (bus << 20 | dev << 15 | fn << 12) + off)[0]


def main():
    iommush, src = sys.argv[1], sys.argv[2]
    qemu = shutil.which('qemu-system-x86_64')
    if not qemu or not shutil.which('iasl'):
        print('skipped: needs qemu-system-x86_64 and iasl')
        return SKIP
    with tempfile.TemporaryDirectory(prefix='ish-pciq-') as tmp:
        subprocess.run(['timeout', '60', 'iasl', '-p', os.path.join(tmp, 'bridges'),
                        os.path.join(src, 'tests', 'pci', 'bridges.dsl')],
                       check=True, capture_output=True)
        dmar = os.path.join(tmp, 'bridges.aml')
        vm = Qemu(qemu, tmp, 'pci', extra=[
            '-device', 'pcie-root-port,id=rp1,bus=pcie.0,addr=0x3,chassis=1',
            '-device', 'edu,bus=rp1',
            '-device', 'pcie-root-port,id=rp2,bus=pcie.0,addr=0x4,chassis=2',
            '-device', 'edu,bus=rp2'])
        try:
            vm.start()
            # The firmware has run once the guest's own DMAR table is there.
            deadline = time.time() + 30
            while True:
                rc, out, err = run([iommush, vm.target, '-c', 'units'])
                if rc == 0 or time.time() > deadline:
                    break
                time.sleep(0.5)
            check(rc == 0, 'firmware built its DMAR (%s)' % err.strip())

            bridges = info_pci_bridges(vm.hmp('info pci'))
            print('       info pci bridges:', bridges)
            rp = {dev: bridges.get((0, dev, 0)) for dev in (3, 4)}
            check(all(rp.values()) and rp[3][1] != rp[4][1] and rp[3][1] > 0,
                  'info pci: both root ports have distinct secondary buses')
            t0 = time.time()
            rc, out, err = run([iommush, vm.target, '--json', '-c', 'pci'])
            elapsed = time.time() - t0
            check(rc == 0, 'pci on the gdbstub exits 0 (%s)' % err.strip())
            funcs = {f['bdf']: f for f in json.loads(out)} if rc == 0 else {}
            print('       pci: %d functions in %.2f s: %s' % (len(funcs), elapsed, sorted(funcs)))
            for dev in (3, 4):
                f = funcs.get('00:%02x.0' % dev)
                ecam = ecam_dword(vm, 0, dev, 0, 0x18)
                check(f is not None and f['bridge'] is not None and
                      (f['bridge']['primary'], f['bridge']['secondary'],
                       f['bridge']['subordinate']) == rp[dev] ==
                      (ecam & 0xff, ecam >> 8 & 0xff, ecam >> 16 & 0xff),
                      'root port 00:%02x.0: buses %s as info pci and ECAM say' % (dev, rp[dev]))
                sec = rp[dev][1] if rp[dev] else 0
                e = funcs.get('%02x:00.0' % sec)
                ecam_id = ecam_dword(vm, sec, 0, 0, 0)
                check(e is not None and (e['vendor_id'], e['device_id']) == (0x1234, 0x11e8) and
                      ecam_id == 0x11e81234,
                      'edu [1234:11e8] at %02x:00.0 (ECAM id %#x)' % (sec, ecam_id))
            rc, out, _ = run([iommush, vm.target, '-c', 'pci'])
            check(rc == 0 and re.search(r'^0000:00:03\.0 \[1b36:000c\] 060400 bridge bus %02x-%02x '
                                        % (rp[3][1], rp[3][2]), out, re.M) is not None,
                  'text: 00:03.0 ... bridge bus %02x-%02x' % (rp[3][1], rp[3][2]))

            # A DMAR whose scopes go through the root ports.
            over = [iommush, vm.target, '-O', 'acpi.dmar=' + dmar]
            e1, e2 = '%02x:00.0' % rp[3][1], '%02x:00.0' % rp[4][1]
            rc, out, err = run(over + ['-c', 'dmar'])
            print(out)
            check(rc == 0 and re.search(r'PCI endpoint\s+%s\s+bus 00 path 03\.0,00\.0\n' % e1, out)
                  is not None, 'dmar: path 03.0,00.0 resolves to the edu at %s' % e1)
            check(re.search(r'PCI bridge\s+00:04\.0\s+bus 00 path 04\.0 buses %02x-%02x\n'
                            % (rp[4][1], rp[4][2]), out) is not None,
                  'dmar: sub-hierarchy 04.0 covers buses %02x-%02x' % (rp[4][1], rp[4][2]))
            check('path 05.0,00.0 (unresolved: bridge 00:05.0 is absent)' in out,
                  'dmar: a path through an absent bridge says so')
            check('path 1f.0,00.0 (unresolved: 00:1f.0 is not a bridge (header type 0))' in out,
                  'dmar: a path through a non-bridge says so')
            rc, out, err = run(over + ['--json', '-c', 'dmar'])
            scopes = json.loads(out)['structures'][0]['scopes'] if rc == 0 else []
            check([s.get('resolved') and s['resolved']['bdf'] for s in scopes] ==
                  [e1, '00:04.0', None, None], 'dmar --json: resolved BDFs')

            rc, out, err = run(over + ['--json', '-c', 'pci'])
            cover = {f['bdf']: (f['unit'], f['cover']) for f in json.loads(out)} if rc == 0 else {}
            print('       cover:', cover)
            check(cover.get(e1) == ('dmar0', 'scope') and
                  cover.get('00:04.0') == ('dmar0', 'bridge scope') and
                  cover.get(e2) == ('dmar0', 'bridge scope') and
                  cover.get('00:03.0') == ('dmar1', 'INCLUDE_PCI_ALL') and
                  cover.get('00:1f.0') == ('dmar1', 'INCLUDE_PCI_ALL'),
                  'pci: units through scopes behind bridges, INCLUDE_PCI_ALL for the rest')
            # A snapshot keeps every function's config space (bridges too): the
            # same listing and the same scope resolution, post mortem.
            snap = os.path.join(tmp, 'bridged.snap')
            rc, _, err = run([iommush, vm.target, '-c', 'snapshot ' + snap])
            check(rc == 0, 'snapshot of the guest (%s)' % err.strip())
            rc1, live_pci, _ = run([iommush, vm.target, '--json', '-c', 'pci'])
            rc2, snap_pci, err = run([iommush, snap, '--json', '-c', 'pci'])
            strip = lambda out: [{k: f[k] for k in ('bdf', 'vendor_id', 'device_id', 'class',
                                                     'header_type', 'bridge')}
                                 for f in json.loads(out)] if out else None
            check(rc1 == rc2 == 0 and strip(live_pci) == strip(snap_pci),
                  'pci on the snapshot equals pci on the guest (%s)' % err.strip())
            rc1, live_dmar, _ = run(over + ['-c', 'dmar'])
            rc2, snap_dmar, err = run([iommush, snap, '-O', 'acpi.dmar=' + dmar, '-c', 'dmar'])
            # (00:05.0 is absent on the guest, merely "not in the dump" on the snapshot)
            same = lambda out: [l for l in out.splitlines() if '00:05.0' not in l]
            check(rc1 == rc2 == 0 and same(live_dmar) == same(snap_dmar) and
                  'path 05.0,00.0 (unresolved: bridge 00:05.0 not readable' in snap_dmar,
                  'dmar scopes resolve on the snapshot as on the guest (%s)' % err.strip())

            for bdf, unit in ((e1, 'dmar0'), (e2, 'dmar0'), ('00:1f.0', 'dmar1')):
                rc, out, err = run(over + ['--json', '-c', 'context ' + bdf])
                got = json.loads(out).get('unit') if rc in (0, 1) and out else None
                check(got == unit, 'context %s is looked up on %s (ish_unit_for_device): %s %s'
                      % (bdf, unit, got, err.strip()))
        finally:
            vm.kill()
    if FAILURES:
        print('%d failed' % len(FAILURES))
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
