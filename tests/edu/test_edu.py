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

With --scalable (-device intel-iommu,x-scalable-mode=on), the same harness
writes a scalable-mode root entry, a 256-bit context entry (RID_PASID 0), a
PASID directory and a PASID table entry (PGTT=010b second-level only, AW 39
bits, DID 1) over the same page tables, programs RTADDR with TTM=01b and the
invalidation queue with 256-bit descriptors (IQA.DW), then:

  (a)    `translate` (text and --json) gives the HPA; the DMA lands there.
  (b)    an unmapped IOVA: `translate` predicts the specification's
         scalable-mode code, QEMU records its own (see SM_EXPECT); both are
         asserted, with the record's SID, type, address and PP/PASID.
  (c)    write to a read-only page, read from a write-only page, root entry
         LP clear, context entry not present or with a reserved bit set,
         RID_PASID beyond the directory, PASID directory entry and PASID
         entry not present, PGTT 0/1/3/5/6/7, AW not in SAGAW: each one
         predicted by `translate`, then recorded (or not) by QEMU.
  (d)    PGTT=100b pass-through, through PASID 0 and through RID_PASID 0x41
         (directory entry 1, table entry 1).
  (e)    stale IOTLB entries: PASID-based invalidations (piotlb, pasid-cache)
         leave QEMU 7.2's entry for a request without PASID stale; the IOTLB
         descriptor (page and domain) cures it.
Fault records are read through the monitor (`xp` on FRCD 0 at CAP.FRO*16)
and cleared by the harness; `faults` must decode them the same way.

The checks read guest memory through QEMU's monitor, not through iommush:
the guest's memory decides, not our decoder. README.md in this directory
lists where QEMU 7.2 and the specification differ.

Usage: test_edu.py IOMMUSH [--caching-mode on|off] [--scalable]
Exit status 77 (skipped) without qemu-system-x86_64. QEMU is killed on every
path (finally, and PR_SET_PDEATHSIG if the runner dies).
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

SKIP = 77
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
import ishtest  # noqa: E402
ishtest.use('gdbstub')
import test_qemu as gdbstub_test  # noqa: E402  (its QEMU driver)
check = ishtest.Checks()
FAILURES = check.failures

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


class Qemu(gdbstub_test.Qemu):
    """The gdbstub test's QEMU driver with edu and this run's VT-d options."""

    def __init__(self, binary, tmp, caching_mode, scalable=False):
        super().__init__(binary, tmp, 'edu', extra=['-device', 'edu'], mem=128,
                         iommu='intel-iommu,caching-mode=%s%s'
                         % (caching_mode, ',x-scalable-mode=on' if scalable else ''))

    def mem(self, addr, size):
        """Guest-physical memory as QEMU itself sees it (pmemsave)."""
        path = os.path.join(self.tmp, 'pmem')
        self.cmd('pmemsave', val=addr, size=size, filename=path)
        with open(path, 'rb') as f:
            return f.read()

    def xp64(self, addr):
        """One qword of guest-physical space (RAM or MMIO) through the monitor."""
        return self.xp('1gx', addr)[0]


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
    rc, out, _ = gdbstub_test.wait_for_dmar(iommush, vm)
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


# --- scalable mode ---------------------------------------------------------
# Table formats (VT-d 5.0): 9.2 scalable-mode root entry (LP bit 0, LCTP
# 63:12 for devfn 0..127), 9.4 scalable-mode context entry (256 bits: P 0,
# PDTS 11:9, PASIDDIRPTR 63:12; RID_PASID 83:64), 9.5 PASID directory entry
# (P 0, SMPTBLPTR 63:12), 9.6 PASID table entry (512 bits: P 0, FPD 1, AW 4:2,
# PGTT 8:6, SLPTPTR 63:12; DID 79:64). Bit positions as in QEMU
# hw/i386/intel_iommu_internal.h (VTD_SM_*) and Linux pasid.h (pasid_set_*).
RTADDR_TTM_SCALABLE = 1 << 10   # RTADDR.TTM = 01b (11.4.5)
IQA_DW = 1 << 11                # 256-bit descriptors (11.4.8.3)
PDIR, PTBL, PTBL2 = 0x4005000, 0x4006000, 0x4007000
PGTT_FL, PGTT_SL, PGTT_NESTED, PGTT_PT = 1, 2, 3, 4
AW39 = 1                        # 3-level second-level tables
IOVA_RO = 0x101000              # a read-only page -> HPA_C
IOVA_WO = 0x102000              # a write-only page -> HPA_C
IOVA_HOLE = 0x104000            # its level-1 entry is empty
IOVA_SRC = 0x103000             # read-only -> PATTERN_SRC
IOVA_PT = 0x5300000             # pass-through: DMA lands at the same address
REG_BASE = 0xfed90000
DMAR_CAP, DMAR_ECAP, DMAR_FSTS = 0x08, 0x10, 0x34

# Fault reasons seen in scalable mode, per case: (what QEMU 7.2 records,
# what `translate` predicts = the VT-d 5.0 Appendix A scalable-mode code).
# Filled from measurements; a change in either fails the test.
SM_EXPECT = {
    'b unmapped': (0x05, 0x79),
    'c write to read-only page': (0x05, 0x85),
    'c read from write-only page': (0x06, 0x86),
    'c leaf PTE not present': (0x05, 0x79),
    'c PTE reserved bit 45': (0x0c, 0x7a),
    'c FPD in PASID entry': (None, 0x79),
    'c FPD in context entry': (None, 0x79),
    'c root entry LP clear': (0x01, 0x39),
    'c context entry not present': (0x02, 0x41),
    'c context entry reserved bit 5': (0x0b, 0x42),
    'c RID_PASID beyond PDTS': (0x58, 0x46),
    'c PASID directory entry not present': (0x58, 0x51),
    'c PASID entry not present': (0x58, 0x59),
    'c PGTT 0': (0x58, 0x5b),
    'c PGTT 1': (None, 0x5b),
    'c PGTT 3': (None, 0x5b),
    'c PGTT 5': (0x58, 0x5b),
    'c PGTT 6': (0x58, 0x5b),
    'c PGTT 7': (0x58, 0x5b),
    'c AW not in SAGAW': (0x58, 0x5b),
}


def pe_qword0(slptptr, pgtt, aw=AW39, present=1):
    return slptptr | pgtt << 6 | aw << 2 | present


def sm_fault_record(vm):
    """FRCD 0 (11.4.14) and FSTS, read through QEMU's monitor."""
    cap = vm.xp64(REG_BASE + DMAR_CAP)
    fro = ((cap >> 24) & 0x3ff) * 16
    lo = vm.xp64(REG_BASE + fro)
    hi = vm.xp64(REG_BASE + fro + 8)
    fsts = vm.xp64(REG_BASE + DMAR_FSTS) & 0xffffffff
    return {'valid': bool(hi >> 63), 'reason': (hi >> 32) & 0xff, 'sid': hi & 0xffff,
            'addr': lo & ~0xfff, 'read': bool((hi >> 62) & 1), 'pp': bool((hi >> 31) & 1),
            'pasid': (hi >> 40) & 0xfffff, 'fsts': fsts, 'fro': fro, 'lo': lo, 'hi': hi}


def sm_clear_fault(rsp_path, fro):
    rsp = Rsp(rsp_path)
    try:
        rsp.w32(REG_BASE + fro + 12, 0x80000000)    # FRCD.F is RW1C
        rsp.w32(REG_BASE + DMAR_FSTS, 0x3)          # PFO, PPF
    finally:
        rsp.close()


def scenario_scalable(iommush, vm):
    ish = Ish(iommush, vm)
    rc, out, _ = gdbstub_test.wait_for_dmar(iommush, vm)
    if not check(rc == 0, 'iommush finds the unit through the guest DMAR table'):
        return
    ecap = vm.xp64(REG_BASE + DMAR_ECAP)
    check(ecap >> 43 & 1, 'ECAP.SMTS: the unit supports scalable mode (ECAP %#x)' % ecap)
    pt_ok = bool(ecap >> 6 & 1)
    rsp = Rsp(vm.gdb_path)
    try:
        bdf = find_edu(rsp)
        if not check(bdf is not None and (bdf & 0xff) < 128,
                     'edu found through ECAM, devfn below 128 (lower context table)'):
            return
        cfg = ECAM + (bdf << 12)
        bar = rsp.r32(cfg + 0x10) & ~0xf
        rsp.w32(cfg + 4, (rsp.r32(cfg + 4) & 0xffff) | 0x6)
        check(rsp.r32(cfg + 4) & 0x6 == 0x6, 'bus mastering enabled through ECAM')
        for a in (ROOT, CTX, PDIR, PTBL, PTBL2, L3, L2, L1, IQ):
            rsp.write(a, bytes(4096))
        for a in (HPA_A, HPA_B, HPA_C, IOVA_MAPPED, IOVA_UNMAPPED, IOVA_PT):
            rsp.write(a, bytes(0x2000))
        rsp.w64(ROOT, CTX | 1)                                  # LP, LCTP
        rsp.w64(CTX + (bdf & 0x7f) * 32, PDIR | 1)              # P, PDTS 0
        rsp.w64(CTX + (bdf & 0x7f) * 32 + 8, 0)                 # RID_PASID 0
        rsp.w64(PDIR, PTBL | 1)                                 # PASIDs 0..63
        rsp.w64(PTBL, pe_qword0(L3, PGTT_SL))
        rsp.w64(PTBL + 8, DID)
        rsp.w64(L3, L2 | 3)
        rsp.w64(L2, L1 | 3)
        rsp.w64(L1 + ((IOVA_MAPPED >> 12) & 511) * 8, HPA_A | 3)
        rsp.w64(L1 + ((IOVA_RO >> 12) & 511) * 8, HPA_C | 1)
        rsp.w64(L1 + ((IOVA_WO >> 12) & 511) * 8, HPA_C | 2)
        rsp.w64(L1 + ((IOVA_SRC >> 12) & 511) * 8, PATTERN_SRC | 1)
        rsp.write(PATTERN_SRC, PATTERN)
    finally:
        rsp.close()
    bdfs = '00:%02x.%x' % (bdf >> 3, bdf & 7)
    ctx_addr = CTX + (bdf & 0x7f) * 32

    def poke(addr, val):
        r = Rsp(vm.gdb_path)
        try:
            r.w64(addr, val)
        finally:
            r.close()

    check(edu_dma(vm, vm.gdb_path, bar, PATTERN_SRC, EDU_BUF, LEN, False),
          'edu DMA (RAM to device, no translation) completes')
    # Scalable mode: TTM=01b, then the queue (QEMU 7.2 forgets IQA.DW on
    # read-back, but takes it from the write), then QIE, then TE.
    rc, _, _ = ish.run('set reg RTADDR %#x' % (ROOT | RTADDR_TTM_SCALABLE),
                       'set reg GCMD 0x40000000', 'set reg IQA %#x' % (IQ | IQA_DW),
                       'set reg IQT 0')
    check(rc == 0, 'set reg RTADDR (TTM=01b), GCMD.SRTP, IQA (DW=1), IQT')
    rc, _, _ = ish.run('set reg GCMD 0x04000000', 'set reg GCMD 0x84000000')
    check(rc == 0, 'set reg GCMD.QIE, then TE with QIE')
    sr = ish.json('set reg GCMD 0x84000000')
    gsts = sr.get('gsts') if sr else None
    check(gsts is not None and gsts & 0xc4000000 == 0xc4000000,
          'GSTS shows RTPS, TES and QIES (%s)' % (hex(gsts) if gsts is not None else None))
    units = ish.json('units')
    check(units is not None and units[0].get('mode') == 'scalable' and
          units[0].get('translation_enabled') is True,
          '`units` says dmar0 translates in scalable mode')

    # (a) second-level-only RID_PASID translation
    rc, out, _ = ish.run('translate %s %#x --write' % (bdfs, IOVA_MAPPED + OFF))
    check(rc == 0 and '(scalable mode, second-level, DID %d)' % DID in out and
          '=> HPA %#x ' % (HPA_A + OFF) in out,
          '(a) translate (text): scalable mode, second-level, DID %d, HPA %#x'
          % (DID, HPA_A + OFF))
    tr = ish.json('translate %s %#x --write' % (bdfs, IOVA_MAPPED + OFF))
    check(tr is not None and tr.get('hpa') == HPA_A + OFF,
          '(a) translate %s %#x --write -> %s (expected %#x)'
          % (bdfs, IOVA_MAPPED + OFF, tr and hex(tr.get('hpa', -1)), HPA_A + OFF))
    check(tr is not None and tr.get('scalable') is True and tr.get('did') == DID and
          [st.get('kind') for st in tr.get('steps', [])][:4] ==
          ['root', 'context', 'pasid-dir', 'pasid'],
          '(a) translate --json: scalable, DID %d, root/context/PASID dir/PASID steps' % DID)
    hpa = tr.get('hpa', HPA_A + OFF) - OFF if tr and 'hpa' in tr else HPA_A
    check(edu_dma(vm, vm.gdb_path, bar, EDU_BUF, IOVA_MAPPED + OFF, LEN, True),
          '(a) edu DMA to IOVA %#x completes' % (IOVA_MAPPED + OFF))
    landed_only_at(vm, hpa, [a for a in (HPA_B, HPA_C, IOVA_MAPPED) if a != hpa], '(a)')
    rec = sm_fault_record(vm)
    check(not rec['valid'], '(a) no fault recorded (FRCD %#x %#x)' % (rec['hi'], rec['lo']))

    def flush():
        rc, out, err = ish.run('invalidate context global', 'invalidate iotlb global')
        check(rc == 0, 'queued context and IOTLB global invalidations')

    observed = {}

    def reload_pattern(name):
        """A faulting read leaves zeros in edu's buffer: read the pattern
        again, translated, through the read-only IOVA_SRC."""
        check(edu_dma(vm, vm.gdb_path, bar, IOVA_SRC, EDU_BUF, LEN, False),
              '(%s) edu reads the pattern again through IOVA %#x' % (name, IOVA_SRC))
        check(not sm_fault_record(vm)['valid'], '(%s) that read did not fault' % name)

    def fault_case(name, iova, to_ram, mutate=None, restore=None, fpd=False):
        if mutate:
            mutate()
            flush()
        zero(vm.gdb_path, [HPA_A, HPA_B, HPA_C])
        rw = ' --write' if to_ram else ''
        rc, text, _ = ish.run('translate %s %#x%s' % (bdfs, iova, rw))
        tr = ish.json('translate %s %#x%s' % (bdfs, iova, rw))
        fault = tr.get('fault') if tr else None
        predicted = fault['reason'] if fault else None
        exp_qemu, exp_ish = SM_EXPECT[name]
        check(rc == 0 and fault is not None and predicted == exp_ish,
              '(%s) translate predicts fault %s (expected %#x)'
              % (name, predicted if predicted is None else hex(predicted), exp_ish))
        check(predicted is not None and '=> fault %#x ' % predicted in text,
              '(%s) the text output names the same reason' % name)
        check(fault is not None and fault.get('fpd') == fpd,
              '(%s) translate says FPD %s: the fault is %s' % (name, fpd, 'not recorded' if fpd
                                                              else 'recorded'))
        if to_ram:
            ok = edu_dma(vm, vm.gdb_path, bar, EDU_BUF, iova, LEN, True)
        else:
            ok = edu_dma(vm, vm.gdb_path, bar, iova, EDU_BUF, LEN, False)
        check(ok, '(%s) edu DMA %s IOVA %#x completes' % (name, 'to' if to_ram else 'from', iova))
        rec = sm_fault_record(vm)
        print('       FRCD: valid %s sid %#x addr %#x %s reason %#x pp %s pasid %#x fsts %#x'
              % (rec['valid'], rec['sid'], rec['addr'], 'read' if rec['read'] else 'write',
                 rec['reason'], rec['pp'], rec['pasid'], rec['fsts']))
        observed[name] = (rec['reason'] if rec['valid'] else None, predicted,
                          rec['pp'] if rec['valid'] else None, fpd)
        if fpd:
            check(not rec['valid'], '(%s) QEMU records no fault (FPD)' % name)
            where = where_pattern(vm, [HPA_A, HPA_B, HPA_C])
            check(all(v[2] for v in where.values()),
                  '(%s) the faulting DMA wrote nothing anywhere we look' % name)
        elif exp_qemu is None:
            # QEMU 7.2 translates instead of faulting: see where it went.
            check(not rec['valid'], '(%s) QEMU 7.2 records no fault' % name)
            landed_only_at(vm, HPA_A, [HPA_B, HPA_C],
                           '(%s) QEMU 7.2 walks the second-level table instead' % name)
        elif check(rec['valid'], '(%s) QEMU recorded a fault' % name):
            check(rec['reason'] == exp_qemu, '(%s) QEMU 7.2 records reason %#x (expected %#x)'
                  % (name, rec['reason'], exp_qemu))
            check(rec['sid'] == bdf, '(%s) the record names edu (%#x)' % (name, bdf))
            check(rec['read'] == (not to_ram), '(%s) the record is a %s request'
                  % (name, 'write' if to_ram else 'read'))
            check(rec['addr'] == iova & ~0xfff,
                  '(%s) fault address %#x is the IOVA page' % (name, rec['addr']))
            # QEMU 7.2 sets PP (PASID 0 = RID_PASID) on faults of the page
            # walk but not on faults of the structures before it.
            walk = exp_ish >= 0x70     # the spec's page-walk codes
            check(rec['pp'] == walk and rec['pasid'] == 0,
                  '(%s) QEMU 7.2 records PP=%d PASID %#x' % (name, rec['pp'], rec['pasid']))
            # iommush decodes the same record the same way, and says when a
            # code belongs to the other mode's table.
            rc, text, _ = ish.run('faults')
            legacy_code = 0x01 <= rec['reason'] <= 0x0e
            check(('unexpected in this mode' in text) == legacy_code,
                  '(%s) `faults` %s reason %#x as unexpected in scalable mode'
                  % (name, 'flags' if legacy_code else 'does not flag', rec['reason']))
            f = ish.json('faults')
            recs = f[0].get('records', []) if f else []
            check(len(recs) == 1 and recs[0]['reason'] == rec['reason'] and
                  recs[0]['addr'] == rec['addr'] and recs[0]['sid'] == rec['sid'] and
                  recs[0]['pasid_present'] == rec['pp'] and
                  recs[0]['in_mode'] == (not legacy_code),
                  '(%s) `faults --json` decodes the record as the monitor reads it' % name)
            where = where_pattern(vm, [HPA_A, HPA_B, HPA_C])
            check(all(v[2] for v in where.values()),
                  '(%s) the faulting DMA wrote nothing anywhere we look' % name)
        sm_clear_fault(vm.gdb_path, rec['fro'])
        check(not sm_fault_record(vm)['valid'], '(%s) fault record cleared' % name)
        if not to_ram:
            reload_pattern(name)
        if restore:
            restore()
            flush()

    def pe_set(**kw):
        return lambda: poke(PTBL, pe_qword0(kw.pop('ptr', L3), kw.pop('pgtt', PGTT_SL), **kw))

    pe_ok = pe_set()
    # (b) an unmapped IOVA (its level-2 entry is empty)
    fault_case('b unmapped', IOVA_UNMAPPED + OFF, True)
    # (c) permissions, then every scalable-mode structure on the way
    fault_case('c write to read-only page', IOVA_RO + OFF, True)
    fault_case('c read from write-only page', IOVA_WO + OFF, False)
    fault_case('c leaf PTE not present', IOVA_HOLE + OFF, True)
    fault_case('c PTE reserved bit 45', IOVA_MAPPED + OFF, True,
               lambda: set_pte(vm.gdb_path, HPA_A | 1 << 45),
               lambda: set_pte(vm.gdb_path, HPA_A))
    fault_case('c FPD in PASID entry', IOVA_UNMAPPED + OFF, True,
               lambda: poke(PTBL, pe_qword0(L3, PGTT_SL) | 2), pe_ok, fpd=True)
    fault_case('c FPD in context entry', IOVA_UNMAPPED + OFF, True,
               lambda: poke(ctx_addr, PDIR | 3), lambda: poke(ctx_addr, PDIR | 1), fpd=True)
    fault_case('c root entry LP clear', IOVA_MAPPED + OFF, True,
               lambda: poke(ROOT, CTX), lambda: poke(ROOT, CTX | 1))
    fault_case('c context entry not present', IOVA_MAPPED + OFF, True,
               lambda: poke(ctx_addr, PDIR), lambda: poke(ctx_addr, PDIR | 1))
    fault_case('c context entry reserved bit 5', IOVA_MAPPED + OFF, True,
               lambda: poke(ctx_addr, PDIR | 1 << 5 | 1), lambda: poke(ctx_addr, PDIR | 1))
    fault_case('c RID_PASID beyond PDTS', IOVA_MAPPED + OFF, True,
               lambda: poke(ctx_addr + 8, 0x40000), lambda: poke(ctx_addr + 8, 0))
    fault_case('c PASID directory entry not present', IOVA_MAPPED + OFF, True,
               lambda: poke(PDIR, PTBL), lambda: poke(PDIR, PTBL | 1))
    fault_case('c PASID entry not present', IOVA_MAPPED + OFF, True,
               pe_set(present=0), pe_ok)
    for pgtt in (0, PGTT_FL, PGTT_NESTED, 5, 6, 7):
        fault_case('c PGTT %d' % pgtt, IOVA_MAPPED + OFF, True, pe_set(pgtt=pgtt), pe_ok)
    fault_case('c AW not in SAGAW', IOVA_MAPPED + OFF, True, pe_set(aw=4), pe_ok)

    print('       scalable-mode fault reasons: case, QEMU 7.2 recorded (PP), translate predicted:')
    for k, (q, p, pp, fpd) in observed.items():
        print('         %-36s %-6s %-6s %-6s %s' % (k, q if q is None else hex(q),
                                                    '' if pp is None else 'PP=%d' % pp,
                                                    p if p is None else hex(p),
                                                    'both: not recorded (FPD)' if fpd
                                                    else 'same' if q == p else 'differs'))

    # (d) pass-through, first through PASID 0, then through RID_PASID 0x41
    # (directory entry 1, table entry 1: proves which entry QEMU reads).
    if check(pt_ok, '(d) ECAP.PT is set: PGTT=100b is supported'):
        for rid_pasid, pe_addr in ((0, PTBL), (0x41, PTBL2 + 64)):
            what = '(d RID_PASID %#x)' % rid_pasid
            if rid_pasid:
                poke(PDIR + 8, PTBL2 | 1)
                poke(pe_addr + 8, DID + 1)
                poke(ctx_addr + 8, rid_pasid)
            poke(pe_addr, pe_qword0(0, PGTT_PT))
            flush()
            zero(vm.gdb_path, [IOVA_PT, HPA_A, HPA_B, HPA_C])
            tr = ish.json('translate %s %#x --write' % (bdfs, IOVA_PT + OFF))
            check(tr is not None and tr.get('hpa') == IOVA_PT + OFF,
                  '%s translate: PGTT=100b passes %#x through (%s)'
                  % (what, IOVA_PT + OFF, tr and tr.get('hpa')))
            entries = [st.get('entry') for st in (tr or {}).get('steps', [])]
            check(tr is not None and pe_addr in entries and tr.get('pass_through') and
                  tr.get('did') == DID + (rid_pasid != 0),
                  '%s translate read the PASID entry at %#x (DID %s)'
                  % (what, pe_addr, tr and tr.get('did')))
            check(edu_dma(vm, vm.gdb_path, bar, EDU_BUF, IOVA_PT + OFF, LEN, True),
                  '%s edu DMA with PGTT pass-through completes' % what)
            landed_only_at(vm, IOVA_PT, [HPA_A, HPA_B, HPA_C], what)
            rec = sm_fault_record(vm)
            check(not rec['valid'], '%s no fault recorded' % what)
            if rec['valid']:
                sm_clear_fault(vm.gdb_path, rec['fro'])
        poke(ctx_addr + 8, 0)
        poke(PTBL, pe_qword0(L3, PGTT_SL))
        flush()

    # (e) stale IOTLB entries, cured through the queue
    def stale_round(old, new, how, inval):
        zero(vm.gdb_path, [HPA_A, HPA_B, HPA_C])
        check(edu_dma(vm, vm.gdb_path, bar, EDU_BUF, IOVA_MAPPED + OFF, LEN, True),
              '(e %s) DMA that fills the IOTLB completes' % how)
        landed_only_at(vm, old, [a for a in (HPA_A, HPA_B, HPA_C) if a != old],
                       '(e %s) before the PTE change' % how)
        zero(vm.gdb_path, [HPA_A, HPA_B, HPA_C])
        set_pte(vm.gdb_path, new)
        tr = ish.json('translate %s %#x --write' % (bdfs, IOVA_MAPPED + OFF))
        check(tr is not None and tr.get('hpa') == new + OFF,
              '(e %s) translate reads the new PTE: %#x' % (how, new + OFF))
        check(edu_dma(vm, vm.gdb_path, bar, EDU_BUF, IOVA_MAPPED + OFF, LEN, True),
              '(e %s) DMA after the PTE change completes' % how)
        stale = where_pattern(vm, [old])[old][0]
        check(stale, '(e %s) the DMA still lands on the old page (stale IOTLB)' % how)
        rc, out, err = ish.run(*inval)
        check(rc == 0, '(e %s) %s' % (how, ' ; '.join(inval)))
        zero(vm.gdb_path, [HPA_A, HPA_B, HPA_C])
        check(edu_dma(vm, vm.gdb_path, bar, EDU_BUF, IOVA_MAPPED + OFF, LEN, True),
              '(e %s) DMA after the invalidation completes' % how)
        res = where_pattern(vm, [old, new])
        return res[new][0] and res[new][1], res[old][0]

    # QEMU 7.2 keeps a request without PASID (RID_PASID) in its IOTLB under
    # the DID alone: PASID-based invalidations (types 6 and 7) leave it stale,
    # the IOTLB descriptor (type 2) removes it. Linux flushes second-level
    # domains with the IOTLB descriptor too.
    set_pte(vm.gdb_path, HPA_A)
    flush()
    cured, still_old = stale_round(HPA_A, HPA_B, 'piotlb pasid',
                                   ['invalidate piotlb pasid %d 0' % DID])
    check(not cured and still_old,
          '(e piotlb pasid) QEMU 7.2: the entry stays stale (new page %s, old page %s)'
          % (cured, still_old))
    flush()
    cured, still_old = stale_round(HPA_B, HPA_C, 'pasid-cache+piotlb page',
                                   ['invalidate pasid-cache pasid %d 0' % DID,
                                    'invalidate piotlb page %d 0 %#x' % (DID, IOVA_MAPPED)])
    check(not cured and still_old,
          '(e pasid-cache+piotlb page) QEMU 7.2: the entry stays stale (new page %s, old page %s)'
          % (cured, still_old))
    flush()
    cured, still_old = stale_round(HPA_C, HPA_A, 'iotlb page',
                                   ['invalidate iotlb page %d %#x --queued' % (DID, IOVA_MAPPED)])
    check(cured and not still_old, '(e iotlb page) the DMA lands on the new page only')
    flush()
    cured, still_old = stale_round(HPA_A, HPA_B, 'iotlb domain',
                                   ['invalidate iotlb domain %d' % DID])
    check(cured and not still_old, '(e iotlb domain) the DMA lands on the new page only')
    q = ish.json('iq')
    print('       iq: %s' % (json.dumps(q)[:400] if q else q))
    rec = sm_fault_record(vm)
    check(not rec['valid'], '(e) no fault recorded by the invalidations (FSTS %#x)' % rec['fsts'])


def main():
    args = sys.argv[1:]
    if not args:
        print(__doc__)
        return 2
    iommush = args[0]
    caching = 'off'
    if '--caching-mode' in args:
        caching = args[args.index('--caching-mode') + 1]
    scalable = '--scalable' in args
    qemu = os.environ.get('QEMU') or shutil.which('qemu-system-x86_64')
    if not qemu:
        print('SKIP: no qemu-system-x86_64')
        return SKIP
    tmp = tempfile.mkdtemp(prefix='iommush-edu-')
    vm = Qemu(qemu, tmp, caching, scalable)
    try:
        vm.start()
        (scenario_scalable if scalable else scenario)(iommush, vm)
    except Exception as e:  # a broken peer is a failure, not a crash of the runner
        check(False, 'scenario raised %s: %s' % (type(e).__name__, e))
    finally:
        vm.kill()
        shutil.rmtree(tmp, ignore_errors=True)
    print('%d failure(s)' % len(FAILURES))
    return 1 if FAILURES else 0


if __name__ == '__main__':
    sys.exit(main())
