#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes, translations and invalidations proven with QEMU's edu device.

Boots qemu-system-x86_64 -machine q35 -device intel-iommu -device edu with no
kernel (SeaBIOS assigns edu's BAR and builds the DMAR table), then:

  setup  the harness writes a root table, a context table for edu and
         3-level second-level page tables into guest RAM above 64 MiB and
         enables bus mastering (its own small RSP client: setup only);
         iommush --write programs RTADDR, SRTP and TE with `set reg`.
  (a)    `translate BDF IOVA --write` gives an HPA; an edu DMA (device to
         RAM) to that IOVA lands exactly there, as QEMU's pmemsave sees it.
  (b)    an unmapped IOVA: `translate` predicts a fault; the DMA leaves a
         fault record that `faults` decodes with that reason and address.
  (c)    the PTE is pointed at a new page: the next DMA still lands on the
         old page (QEMU's IOTLB); after `invalidate iotlb ... --register` it
         lands on the new one. Again with the invalidation queue enabled
         (IQA + GCMD.QIE through `set reg`) and `invalidate ... --queued`.

The checks read guest memory through QEMU's monitor, not through iommush:
the guest's memory decides, not our decoder.

Usage: test_edu.py IOMMUSH [--caching-mode on|off]
Exit status 77 (skipped) without qemu-system-x86_64. QEMU is killed on every
path (finally, and PR_SET_PDEATHSIG if the runner dies).
"""
import ctypes
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

SKIP = 77
FAILURES = []

ECAM = 0xb0000000
EDU_ID = 0x11e81234           # device 0x11e8, vendor 0x1234
EDU_BUF = 0x40000             # edu's DMA buffer, as its registers address it
ROOT, CTX, L3, L2, L1 = 0x4000000, 0x4001000, 0x4002000, 0x4003000, 0x4004000
IQ = 0x4010000                # invalidation queue, 4 KiB (QS=0)
PATTERN_SRC = 0x4800000       # what edu first reads into its buffer
HPA_A, HPA_B, HPA_C = 0x5000000, 0x5100000, 0x5200000
IOVA_MAPPED = 0x100000        # -> HPA_A, then HPA_B, then HPA_C
IOVA_UNMAPPED = 0x200000      # its level-2 entry is empty
DID = 1
OFF = 0x80                    # DMA offset inside the page
LEN = 64
PATTERN = bytes((0xa5 ^ (i * 7)) & 0xff for i in range(LEN))


def check(cond, what):
    print(('ok     ' if cond else 'FAILED ') + what, flush=True)
    if not cond:
        FAILURES.append(what)
    return cond


def die_with_parent():
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


class Rsp:
    """Just enough GDB remote protocol for setup writes (QEMU 7.2 gdbstub)."""

    def __init__(self, path, timeout=5):
        self.s = socket.socket(socket.AF_UNIX)
        self.s.settimeout(timeout)
        self.s.connect(path)
        self.buf = b''
        self.request('qSupported:multiprocess+')
        self.request('?', stop_ok=True)
        if self.request('Qqemu.PhyMemMode:1') != 'OK':
            raise RuntimeError('no physical memory mode')

    def _byte(self):
        while not self.buf:
            chunk = self.s.recv(4096)
            if not chunk:
                raise RuntimeError('gdbstub closed the connection')
            self.buf += chunk
        b, self.buf = self.buf[:1], self.buf[1:]
        return b

    def _packet(self):
        while self._byte() != b'$':
            pass
        data = b''
        while True:
            b = self._byte()
            if b == b'#':
                break
            data += b
        self._byte()
        self._byte()
        self.s.sendall(b'+')
        return data.decode()

    def _send(self, data):
        cs = sum(data.encode()) & 0xff
        self.s.sendall(b'$%s#%02x' % (data.encode(), cs))

    def request(self, data, stop_ok=False):
        self._send(data)
        while True:
            rep = self._packet()
            # QEMU may send an unsolicited stop reply on connect.
            if not stop_ok and rep[:1] in ('T', 'S') and len(rep) >= 3:
                continue
            return rep

    def read(self, addr, n):
        rep = self.request('m%x,%x' % (addr, n))
        if rep.startswith('E'):
            raise RuntimeError('read %#x: %s' % (addr, rep))
        return bytes.fromhex(rep)

    def write(self, addr, data):
        for i in range(0, len(data), 1024):
            part = data[i:i + 1024]
            rep = self.request('M%x,%x:%s' % (addr + i, len(part), part.hex()))
            if rep != 'OK':
                raise RuntimeError('write %#x: %s' % (addr + i, rep))

    def r32(self, addr):
        return int.from_bytes(self.read(addr, 4), 'little')

    def w32(self, addr, v):
        self.write(addr, v.to_bytes(4, 'little'))

    def w64(self, addr, v):
        self.write(addr, v.to_bytes(8, 'little'))

    def run_for(self, seconds):
        """Let the guest run (edu's DMA timer uses virtual time), then stop it."""
        self._send('c')
        time.sleep(seconds)
        self.s.sendall(b'\x03')
        while True:
            rep = self._packet()
            if rep[:1] in ('T', 'S'):
                return

    def close(self):
        # No detach: the guest stays paused (no reboot, no surprises).
        self.s.close()


class Qemu:
    def __init__(self, binary, tmp, caching_mode):
        self.qmp_path = os.path.join(tmp, 'qmp')
        self.gdb_path = os.path.join(tmp, 'gdb')
        self.target = 'gdb:unix:' + self.gdb_path
        self.argv = [binary, '-machine', 'q35',
                     '-device', 'intel-iommu,caching-mode=%s' % caching_mode,
                     '-device', 'edu', '-m', '128', '-nographic', '-display', 'none',
                     '-monitor', 'none', '-serial', 'none', '-nodefaults',
                     '-gdb', 'unix:%s,server=on,wait=off' % self.gdb_path,
                     '-qmp', 'unix:%s,server=on,wait=off' % self.qmp_path]
        self.proc = None
        self.qmp = None
        self.tmp = tmp

    def start(self):
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     preexec_fn=die_with_parent)
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError('qemu exited: ' + self.proc.stderr.read().decode(errors='replace'))
            if os.path.exists(self.qmp_path):
                s = socket.socket(socket.AF_UNIX)
                try:
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

    def mem(self, addr, size):
        """Guest-physical memory as QEMU itself sees it (pmemsave)."""
        path = os.path.join(self.tmp, 'pmem')
        self.cmd('pmemsave', val=addr, size=size, filename=path)
        with open(path, 'rb') as f:
            return f.read()

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


class Ish:
    """iommush over the gdbstub, with writes, leaving the guest paused."""

    def __init__(self, binary, vm):
        self.base = [binary, vm.target, '--write', '-O', 'gdbstub.leave=stopped']

    def run(self, *cmds, js=False):
        argv = list(self.base) + (['--json'] if js else [])
        for c in cmds:
            argv += ['-c', c]
        rc, out, err = run(argv)
        if 'Sanitizer' in err or 'runtime error:' in err:
            check(False, 'sanitizer report from iommush: %s' % err.strip()[:500])
        shown = ' ; '.join(cmds) if len(cmds) <= 4 else '%s ; ... (%d commands)' % (cmds[0], len(cmds))
        print('       $ iommush %s -> %d%s' % (shown, rc,
                                              (': ' + err.strip()) if err.strip() else ''))
        if out.strip() and not js and len(cmds) <= 4:
            for line in out.strip().splitlines():
                print('         ' + line)
        return rc, out, err

    def json(self, cmd):
        rc, out, err = self.run(cmd, js=True)
        if rc != 0:
            return None
        try:
            return json.loads(out)
        except ValueError:
            return None


def find_edu(rsp):
    for dev in range(32):
        bdf = dev << 3
        if rsp.r32(ECAM + (bdf << 12)) == EDU_ID:
            return bdf
    return None


def edu_dma(vm, rsp_path, bar, src, dst, count, to_ram):
    """Start one edu DMA and let the guest run until edu says it is done."""
    rsp = Rsp(rsp_path)
    try:
        rsp.w64(bar + 0x80, src)
        rsp.w64(bar + 0x88, dst)
        rsp.w64(bar + 0x90, count)
        rsp.w32(bar + 0x98, 1 | (2 if to_ram else 0))
        for _ in range(20):
            rsp.run_for(0.25)
            if not rsp.r32(bar + 0x98) & 1:
                return True
        return False
    finally:
        rsp.close()


def where_pattern(vm, regions):
    """For each region base: does it hold the pattern at OFF, and is the rest zero?"""
    res = {}
    for base in regions:
        page = vm.mem(base, 0x2000)
        hit = page[OFF:OFF + LEN] == PATTERN
        rest = page[:OFF] + page[OFF + LEN:]
        res[base] = (hit, rest.count(0) == len(rest), page[OFF:OFF + LEN] == bytes(LEN))
    return res


def landed_only_at(vm, target, others, what):
    res = where_pattern(vm, [target] + others)
    ok = check(res[target][0] and res[target][1],
               '%s: the %d bytes landed at HPA %#x and nothing else in its pages'
               % (what, LEN, target + OFF))
    for o in others:
        ok &= check(res[o][2] and res[o][1], '%s: nothing landed at %#x' % (what, o + OFF))
    return ok


def zero(rsp_path, regions):
    rsp = Rsp(rsp_path)
    try:
        for base in regions:
            rsp.write(base, bytes(0x2000))
    finally:
        rsp.close()


def set_pte(rsp_path, hpa):
    rsp = Rsp(rsp_path)
    try:
        rsp.w64(L1 + ((IOVA_MAPPED >> 12) & 511) * 8, hpa | 3)
    finally:
        rsp.close()


def scenario(iommush, vm):
    ish = Ish(iommush, vm)
    # Firmware first: the DMAR table and edu's BAR come from SeaBIOS.
    deadline = time.time() + 30
    while True:
        rc, out, _ = run([iommush, vm.target, '--json', '-c', 'units'])
        if rc == 0 or time.time() > deadline:
            break
        time.sleep(0.5)
    if not check(rc == 0, 'iommush finds the unit through the guest DMAR table'):
        return
    # From here on the guest only runs during DMAs.
    rsp = Rsp(vm.gdb_path)
    try:
        bdf = find_edu(rsp)
        if not check(bdf is not None, 'edu found through ECAM'):
            return
        cfg = ECAM + (bdf << 12)
        bar = rsp.r32(cfg + 0x10) & ~0xf
        check(bar != 0, 'edu BAR0 assigned by the firmware: %#x' % bar)
        # Memory space + bus master; the status half (RW1C) written as 0.
        rsp.w32(cfg + 4, (rsp.r32(cfg + 4) & 0xffff) | 0x6)
        check(rsp.r32(cfg + 4) & 0x6 == 0x6, 'bus mastering enabled through ECAM')
        # Tables: root[0] -> context table; context[devfn] -> L3, AW=1 (39-bit), DID 1.
        for a in (ROOT, CTX, L3, L2, L1, IQ):
            rsp.write(a, bytes(4096))
        zero_regions = [HPA_A, HPA_B, HPA_C, IOVA_MAPPED, IOVA_UNMAPPED]
        for a in zero_regions:
            rsp.write(a, bytes(0x2000))
        rsp.w64(ROOT, CTX | 1)
        rsp.w64(CTX + (bdf & 0xff) * 16, L3 | 1)
        rsp.w64(CTX + (bdf & 0xff) * 16 + 8, 1 | DID << 8)
        rsp.w64(L3, L2 | 3)
        rsp.w64(L2, L1 | 3)
        rsp.w64(L1 + ((IOVA_MAPPED >> 12) & 511) * 8, HPA_A | 3)
        rsp.write(PATTERN_SRC, PATTERN)
    finally:
        rsp.close()
    bdfs = '00:%02x.%x' % (bdf >> 3, bdf & 7)

    # Translation is still off: edu reads the pattern from physical memory.
    check(edu_dma(vm, vm.gdb_path, bar, PATTERN_SRC, EDU_BUF, LEN, False),
          'edu DMA (RAM to device, no translation) completes')

    rc, out, err = ish.run('set reg RTADDR %#x' % ROOT, 'set reg GCMD 0x40000000',
                           'set reg GCMD 0x80000000')
    check(rc == 0, 'set reg RTADDR, GCMD.SRTP, GCMD.TE')
    # Writing TE again changes nothing; the answer carries GSTS.
    sr = ish.json('set reg GCMD 0x80000000')
    gsts = sr.get('gsts') if sr else None
    check(gsts is not None and gsts & 0xc0000000 == 0xc0000000,
          'GSTS shows RTPS and TES (%s)' % (hex(gsts) if gsts is not None else None))
    rc, _, err = run([iommush, vm.target, '-O', 'gdbstub.leave=stopped',
                      '-c', 'set reg GCMD 0x80000000'])
    check(rc == 1 and 'write' in err, 'set reg without --write is refused (%s)' % err.strip())
    rc, _, err = ish.run('set reg CAP 0')
    check(rc == 1 and 'read-only' in err, 'set reg CAP is refused as read-only')

    # (a) a mapped IOVA
    tr = ish.json('translate %s %#x --write' % (bdfs, IOVA_MAPPED + OFF))
    check(tr is not None and tr.get('hpa') == HPA_A + OFF,
          '(a) translate %s %#x --write -> %s (expected %#x)'
          % (bdfs, IOVA_MAPPED + OFF, tr and hex(tr.get('hpa', -1)), HPA_A + OFF))
    hpa = tr.get('hpa', HPA_A + OFF) - OFF if tr else HPA_A
    check(edu_dma(vm, vm.gdb_path, bar, EDU_BUF, IOVA_MAPPED + OFF, LEN, True),
          '(a) edu DMA (device to RAM) to IOVA %#x completes' % (IOVA_MAPPED + OFF))
    landed_only_at(vm, hpa, [a for a in (HPA_B, HPA_C, IOVA_MAPPED) if a != hpa], '(a)')

    # (b) an unmapped IOVA
    tr = ish.json('translate %s %#x --write' % (bdfs, IOVA_UNMAPPED + OFF))
    fault = tr.get('fault') if tr else None
    check(fault is not None, '(b) translate predicts a fault: %s' % fault)
    check(edu_dma(vm, vm.gdb_path, bar, EDU_BUF, IOVA_UNMAPPED + OFF, LEN, True),
          '(b) edu DMA to the unmapped IOVA completes')
    faults = ish.json('faults')
    recs = faults[0].get('records', []) if faults else []
    check(len(recs) == 1, '(b) faults shows one record: %s' % recs)
    if recs and fault:
        r = recs[0]
        print('       record: sid %#x addr %#x type %s reason %#x (%s)'
              % (r['sid'], r['addr'], r['type'], r['reason'], r['text']))
        check(r['sid'] == bdf, '(b) the record names edu (%#x)' % bdf)
        check(r['type'] == 'write', '(b) the record is a write request')
        check(r['reason'] == fault['reason'],
              '(b) fault reason %#x equals the prediction %#x (%s)'
              % (r['reason'], fault['reason'], fault['text']))
        check(r['addr'] == (IOVA_UNMAPPED + OFF) & ~0xfff,
              '(b) fault address %#x is the IOVA page' % r['addr'])
    res = where_pattern(vm, [IOVA_UNMAPPED, HPA_A, HPA_B, HPA_C])
    check(all(v[2] or k == HPA_A for k, v in res.items()),
          '(b) the faulting DMA wrote nothing anywhere we look')

    # (c) stale IOTLB, register-based invalidation
    def stale_round(old, new, how, inval):
        zero(vm.gdb_path, [HPA_A, HPA_B, HPA_C])
        set_pte(vm.gdb_path, new)
        tr = ish.json('translate %s %#x --write' % (bdfs, IOVA_MAPPED + OFF))
        check(tr is not None and tr.get('hpa') == new + OFF,
              '(c %s) translate reads the new PTE: %#x' % (how, new + OFF))
        check(edu_dma(vm, vm.gdb_path, bar, EDU_BUF, IOVA_MAPPED + OFF, LEN, True),
              '(c %s) DMA after the PTE change completes' % how)
        landed_only_at(vm, old, [a for a in (HPA_A, HPA_B, HPA_C) if a != old],
                       '(c %s) stale IOTLB entry' % how)
        rc, out, err = ish.run(inval)
        check(rc == 0, '(c %s) %s' % (how, inval))
        zero(vm.gdb_path, [HPA_A, HPA_B, HPA_C])
        check(edu_dma(vm, vm.gdb_path, bar, EDU_BUF, IOVA_MAPPED + OFF, LEN, True),
              '(c %s) DMA after the invalidation completes' % how)
        landed_only_at(vm, new, [a for a in (HPA_A, HPA_B, HPA_C) if a != new],
                       '(c %s) after invalidate' % how)
        return out

    out = stale_round(HPA_A, HPA_B, 'register',
                      'invalidate iotlb page %d %#x --register' % (DID, IOVA_MAPPED))
    check('IAIG=' in out, '(c register) the actual granularity is reported')

    # Queued invalidation: IQA, IQT 0, then QIE along with TE.
    rc, _, _ = ish.run('set reg IQA %#x' % IQ, 'set reg IQT 0', 'set reg GCMD 0x84000000')
    check(rc == 0, 'set reg IQA, IQT, GCMD.QIE')
    rc, _, err = ish.run('invalidate iotlb global --register')
    check(rc == 1 and 'queue' in err, 'register-based invalidation refused while QI is on')
    out = stale_round(HPA_B, HPA_C, 'queued',
                      'invalidate iotlb page %d %#x --queued' % (DID, IOVA_MAPPED))
    check('queued in slot 0' in out, '(c queued) the descriptor went to slot 0')
    q = ish.json('iq')
    print('       iq: %s' % (json.dumps(q)[:300] if q else q))
    rc, out, err = ish.run('invalidate context global', 'invalidate iec global')
    check(rc == 0, 'auto picks the queue for context and IEC invalidations')
    # 256 slots: the tail wraps; every wait still completes.
    cmds = ['invalidate iotlb domain %d' % DID] * 130
    rc, out, err = ish.run(*cmds)
    check(rc == 0 and out.count('queued in slot') == 130,
          '130 queued invalidations wrap around the 256-slot queue')
    check('queued in slot 254, wait in slot 255, tail now 0' in out,
          'a descriptor in the last two slots leaves the tail at 0')


def main():
    args = sys.argv[1:]
    if not args:
        print(__doc__)
        return 2
    iommush = args[0]
    caching = 'off'
    if '--caching-mode' in args:
        caching = args[args.index('--caching-mode') + 1]
    qemu = os.environ.get('QEMU') or shutil.which('qemu-system-x86_64')
    if not qemu:
        print('SKIP: no qemu-system-x86_64')
        return SKIP
    tmp = tempfile.mkdtemp(prefix='iommush-edu-')
    vm = Qemu(qemu, tmp, caching)
    try:
        vm.start()
        scenario(iommush, vm)
    except Exception as e:  # a broken peer is a failure, not a crash of the runner
        check(False, 'scenario raised %s: %s' % (type(e).__name__, e))
    finally:
        vm.kill()
        shutil.rmtree(tmp, ignore_errors=True)
    print('%d failure(s)' % len(FAILURES))
    return 1 if FAILURES else 0


if __name__ == '__main__':
    sys.exit(main())
