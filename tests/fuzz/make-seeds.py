#!/usr/bin/env python3
# Writes the hand-made seeds of tests/fuzz/corpus/ (the others are copies of
# tests/fixtures/, see README.md). Run from anywhere: python3 make-seeds.py
# Layouts follow the harness headers (fuzz_walk.c, fuzz_dump.c, fuzz_rsp.c);
# the VT-d bit positions are spec ones (9.1-9.6 root/context/PASID entries,
# 9.8 second-level and 9.7 first-level entries, 9.9/9.10 IRTE, 6.5.2 queue).
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, 'corpus')


def put(harness, name, data):
    d = os.path.join(CORPUS, harness)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data)


# --- walk: registers + sparse RAM records --------------------------------------

def walk_seed(flags, bdf, pasid, iova, access, hpa, msi_lo, msi_data,
              cap, ecap, rtaddr, iqh, iqt, iqa, iqer, irta, gsts, fsts, ics, fectl,
              ram, regs=()):
    b = struct.pack('<BHIQBQII', flags, bdf, pasid, iova, access, hpa, msi_lo, msi_data)
    b += struct.pack('<8Q', cap, ecap, rtaddr, iqh, iqt, iqa, iqer, irta)
    b += struct.pack('<4I', gsts, fsts, ics, fectl)
    for addr, qw in sorted(ram.items()):
        b += struct.pack('<BHBQ', 0, addr, 8, qw)
    for off, val in regs:
        b += struct.pack('<BHQ', 1, off, val)
    return b


CAP = 0x00d2008c22260286      # q35: MGAW 39, SAGAW 3-level, FRO 0x22, NFR 0
ECAP = 0xf00f1a               # IRO 0xf0, QI, IR, EIM, ...
GSTS = 0xc7000000             # TES RTPS QIES IRES IRTPS
NONE = 0xffffffff

# Legacy: root 0x1000 -> context 0x2000 -> 3-level SL at 0x3000.
ram = {
    0x1000: 0x2001,                         # root[bus 0]: P, CTP 0x2000
    0x2000 + 0x08 * 16: 0x3001,             # context[00:01.0]: P, TT 0, SLPTPTR 0x3000
    0x2000 + 0x08 * 16 + 8: 0x101,          # AW 1 (39 bits), DID 1
    0x2000 + 0x10 * 16: 0x9,                # context[00:02.0]: P, TT 2 (pass-through)
    0x2000 + 0x10 * 16 + 8: 0x201,
    0x3000: 0x4003,                         # L3[0] -> 0x4000 RW
    0x4000: 0x5003,                         # L2[0] -> 0x5000 RW
    0x4008: 0x200083,                       # L2[1]: 2 MiB page at 0x200000
    0x5000: 0x8003, 0x5008: 0x9001, 0x5010: 0xa002,
    0x6000: (0x100 << 32) | (0x30 << 16) | 1,   # IRTE 0: P, vector 0x30, dest 1
    0x6010: (0x2 << 32) | (0x31 << 16) | 0x4 << 5 | 1,
    0x7000: 0x11,                           # IQ slot 0: context-cache global
    0x7010: 0x25, 0x7018: 0x7f00,           # slot 1: wait, SW, status address
}
put('walk', 'legacy', walk_seed(0x6, 0x0008, NONE, 0x1000, 1, 0x9000, 0x10, 0,
                                 CAP, ECAP, 0x1000, 0, 0x20, 0x7000, 0, 0x6000 | 3,
                                 GSTS, 0x2, 0x1, 0,
                                 ram, [(0x220, 0x8000000500000000 >> 32 << 32 | 0x1000),
                                       (0x228, 0x8000000200000008)]))

# The same tables with cycles: L2[2] points back at L3, a context entry at the root table.
cyc = dict(ram)
cyc[0x4010] = 0x3003
cyc[0x2000 + 0x18 * 16] = 0x1001
cyc[0x2000 + 0x18 * 16 + 8] = 0x302
put('walk', 'legacy-cycles', walk_seed(0x4, 0x0018, NONE, 0x400000, 3, 0x3000, 0x10, 0,
                                        CAP | 1 << 34, ECAP, 0x1000, 0, 0x10, 0x7000, 0,
                                        0x6000 | 0xf, GSTS, 0, 0, 0, cyc))

# Scalable: root 0x1000 -> 256-bit context 0x2000 -> PASID dir 0x3000 -> table 0x4000.
SECAP = ECAP | 1 << 43 | 1 << 40 | 1 << 47 | 1 << 46 | 1 << 26 | 1 << 6 | 1 << 7
SCAP = CAP | 1 << 56 | 1 << 34 | 0x4 << 8   # FL1GP, 2M SL pages, SAGAW 4-level too
sram = {
    0x1000: 0x2001,                          # root[bus 0].lo: LP, LCTP 0x2000
    0x2000 + 0x08 * 32: 0x3009,              # context[00:01.0]: P, PASIDE, PDTS 0, dir 0x3000
    0x2000 + 0x08 * 32 + 8: 0,               # RID_PASID 0
    0x3000: 0x4001,                          # PASID dir[0] -> table 0x4000
    # PASID 0: SL only (PGTT 2), AW 39, SLPTPTR 0x5000, DID 1
    0x4000: 0x5000 | 2 << 6 | 1 << 2 | 1, 0x4008: 1,
    # PASID 1: FL only (PGTT 1), FLPTPTR 0xa000, 4-level
    0x4040: 1 << 6 | 1, 0x4048: 2, 0x4050: 0xa000 | 1,
    # PASID 2: nested (PGTT 3)
    0x4080: 0x5000 | 3 << 6 | 1 << 2 | 1, 0x4088: 3, 0x4090: 0xa000 | 1,
    # PASID 3: pass-through (PGTT 4)
    0x40c0: 4 << 6 | 1, 0x40c8: 4,
    0x5000: 0x6003, 0x6000: 0x7003, 0x6008: 0x200083, 0x7000: 0xc003, 0x7008: 0xd001,
    0xa000: 0xb007,                          # PML4[0] -> PDPT 0xb000
    0xb000: 0x40000087,                      # 1 GiB page at 1 GiB
    0xb008: 0xc007, 0xc000: 0xd087,          # PD -> 2 MiB page (misaligned: reserved bits)
    0xe000: 0x7 | 1 << 4, 0xe008: 0,         # IQ (256-bit) slot 0: IOTLB global
}
put('walk', 'scalable', walk_seed(0x4, 0x0008, 1, 0x2000, 1, 0x40000000, 0x10, 0,
                                   SCAP, SECAP, 0x1000 | 1 << 10, 0, 0x40, 0xe000 | 1 << 11,
                                   0, 0xd000 | 1 << 11 | 7, GSTS, 0, 0, 0, sram))
put('walk', 'scalable-two-units-capture',
    walk_seed(0xc3 | 0x8, 0x0008, 2, 0x1000, 1, 0xd000, 0x18, 0x10000,
              SCAP, SECAP, 0x1000 | 1 << 10, 0x20, 0x0, 0xe000, 0, 0xd000 | 3,
              GSTS, 0x1, 0, 0x80000000, sram))

# --- rsp: a gdbstub's byte stream ---------------------------------------------

def pkt(s):
    if isinstance(s, str):
        s = s.encode()
    return b'$' + s + b'#' + b'%02x' % (sum(s) & 0xff)


STOP = 'T05thread:p01.01;'
noack = [
    b'+' + pkt('PacketSize=1000;qXfer:features:read+;multiprocess+;QStartNoAckMode+'),
    b'+' + pkt('OK'),                        # QStartNoAckMode (acked: sent before it takes effect)
    pkt(STOP),                               # ?
    pkt('0'), pkt('OK'), pkt('1'),           # PhyMemMode query, set, query
    pkt('1000000000000000'),                 # 8 bytes of CAP-like data
    pkt('0*' + chr(29 + 100) + '0'),         # run-length encoded zeros
    pkt('E14'),                              # an error part-way
    pkt('OK'),                               # M
    pkt('T02thread:p01.01;'),                # stop after resume
    pkt('1'),                                # qAttached
    pkt('aabbcc'),
    pkt('OK'),                               # D
]
put('rsp', 'qemu-noack', bytes([0xff]) + b''.join(noack))
acks = [b'+' + pkt('PacketSize=100;multiprocess+'), b'+' + pkt(STOP),
        b'+' + pkt('1'), b'+' + pkt('0011223344556677'), b'+' + pkt('E01')]
put('rsp', 'acks', bytes([0x07]) + b''.join(acks))
# Garbage, a NAK, a bad checksum, an escaped byte and an unasked stop reply.
hostile = (bytes([0x03]) + b'junk\x00\xff' + b'-' + b'+' + pkt('PacketSize=40') +
           b'$OK#00' + pkt(STOP) + pkt('S05') + b'+' + pkt(STOP) +
           b'+' + pkt('}\x5d') + pkt('W00'))
put('rsp', 'hostile', hostile)

# --- dump: flags byte + [regs] + file ------------------------------------------

FIX = os.path.join(HERE, '..', 'fixtures')
core = open(os.path.join(FIX, 'dump', 'q35-seabios.core'), 'rb').read()
regs = open(os.path.join(FIX, 'dump', 'q35-seabios.regs'), 'rb').read()
dmar = open(os.path.join(FIX, 'dmar', 'qemu72-q35-intremap.bin'), 'rb').read()
put('dump', 'q35-core', b'\x00' + core)
put('dump', 'q35-core-regs', b'\x01' + struct.pack('<H', len(regs)) + regs + core)


def acpi_sum(b):
    return (-sum(b)) & 0xff


# A raw image of the BIOS area (dump.base 0xe0000): RSDP -> RSDT -> DMAR.
img = bytearray(0x400)
rsdp = bytearray(b'RSD PTR \x00BOCHS \x00' + struct.pack('<I', 0xe0100))
rsdp[8] = acpi_sum(rsdp)
img[0:len(rsdp)] = rsdp
rsdt = bytearray(b'RSDT' + struct.pack('<I', 40) + b'\x01\x00BOCHS BXPCRSDT\x01\x00\x00\x00BXPC\x01\x00\x00\x00' +
                 struct.pack('<I', 0xe0200))
rsdt[9] = acpi_sum(rsdt)
img[0x100:0x100 + len(rsdt)] = rsdt
img[0x200:0x200 + len(dmar)] = dmar
put('dump', 'raw-bios-acpi', b'\x06' + bytes(img))
put('dump', 'raw-bios-acpi-regs', b'\x0f' + struct.pack('<H', len(regs)) + regs + bytes(img))

# --- regsfile: the limits (more units than allowed, a line too long) ----------------

put('regsfile', 'too-many-units',
    ''.join('[dmar%d @ 0x%x]\nGSTS = 0\n' % (i, 0xfed90000 + i * 0x1000) for i in range(257)).encode())
put('regsfile', 'long-line', b'[dmar0]\nCAP = 0x1 #' + b'x' * 4100 + b'\nECAP = 0x2\n')

# --- printk: a small lockless ring in the Linux 6.1 layout (lib/printk.c) ----------
#
# The layout lines are the lab guest's VMCOREINFO (Debian 6.1); the ring has
# 2^3 descriptors and 2^9 bytes of text, at kernel virtual 0xffff888000000000.

PK_BASE = 0xffff888000000000
PK_LAYOUT = '''OSRELEASE=6.1.0-57-amd64
SIZE(printk_ringbuffer)=88
OFFSET(printk_ringbuffer.desc_ring)=0
OFFSET(printk_ringbuffer.text_data_ring)=48
OFFSET(prb_desc_ring.count_bits)=0
OFFSET(prb_desc_ring.descs)=8
OFFSET(prb_desc_ring.infos)=16
OFFSET(prb_desc_ring.head_id)=24
OFFSET(prb_desc_ring.tail_id)=32
SIZE(prb_desc)=24
OFFSET(prb_desc.state_var)=0
OFFSET(prb_desc.text_blk_lpos)=8
OFFSET(prb_data_blk_lpos.begin)=0
OFFSET(prb_data_blk_lpos.next)=8
SIZE(printk_info)=88
OFFSET(printk_info.seq)=0
OFFSET(printk_info.ts_nsec)=8
OFFSET(printk_info.text_len)=16
OFFSET(printk_info.caller_id)=20
OFFSET(prb_data_ring.size_bits)=0
OFFSET(prb_data_ring.data)=8
OFFSET(atomic_long_t.counter)=0
'''


def printk_seed(texts, count_bits=3, size_bits=9, wrap=False, states=None):
    """The image: prb pointer at 0, the ring at 0x10, descs at 0x100,
    infos at 0x400, data at 0x800; records laid out one after another
    (wrap: the last one wraps to data[0], as the kernel places it)."""
    img = bytearray(0x800 + (1 << size_bits))
    n = len(texts)
    first = (1 << count_bits) * 3           # ids past the first wrap of the ids
    descs, infos, data = PK_BASE + 0x100, PK_BASE + 0x400, PK_BASE + 0x800
    struct.pack_into('<Q', img, 0, PK_BASE + 0x10)
    struct.pack_into('<IIQQQQ', img, 0x10, count_bits, 0, descs, infos, first + n - 1, first)
    struct.pack_into('<IIQ', img, 0x10 + 48, size_bits, 0, data)
    lpos = (1 << size_bits) * 2
    for i, t in enumerate(texts):
        tid = first + i
        slot = tid & ((1 << count_bits) - 1)
        blen = (8 + len(t) + 7) & ~7
        if wrap and i == n - 1:
            lpos = (lpos | ((1 << size_bits) - 1)) + 1 - 8   # 8 bytes left: wrap
        begin = lpos
        if (begin >> size_bits) != ((begin + blen) >> size_bits):
            nxt = ((begin >> size_bits) + 1 << size_bits) + blen
            off = 0
        else:
            nxt = begin + blen
            off = begin & ((1 << size_bits) - 1)
        state = (states[i] if states else 2)
        struct.pack_into('<QQQ', img, 0x100 + slot * 24, tid | state << 62, begin, nxt)
        struct.pack_into('<QQHBBI', img, 0x400 + slot * 88, 100 + i, 1000000 * (i + 1),
                         len(t), 0, (6 if i else 3) << 5, 1)
        struct.pack_into('<Q', img, 0x800 + off, tid)
        img[0x800 + off + 8:0x800 + off + 8 + len(t)] = t
        lpos = nxt
    text = (PK_LAYOUT + 'SYMBOL(prb)=%x\n' % PK_BASE).encode()
    return struct.pack('<H', len(text)) + text + bytes([1 + 19 * 8 + 5]) + bytes(img)


PK_LINES = [
    b'DMAR: IOMMU enabled',
    b'DMAR: DRHD: handling fault status reg 2',
    b'DMAR: [DMA Write NO_PASID] Request device [00:04.0] fault addr 0x7000 '
    b'[fault reason 0x05] PTE Write access is not set',
    b'DMAR: [DMA Read PASID 0x1] Request device [01:00.0] fault addr 0xdead000 '
    b'[fault reason 0x59] SM: Present bit in PASID table entry is clear',
    b'DMAR: [INTR-REMAP] Request device [00:1f.0] fault index 0x12 '
    b'[fault reason 0x25] Present field in the IRTE entry is clear',
]
put('printk', 'ring-6.1', printk_seed(PK_LINES))
put('printk', 'ring-wrapped', printk_seed(PK_LINES[:4], wrap=True))
put('printk', 'ring-states', printk_seed(PK_LINES, states=[2, 0, 1, 3, 2]))
put('printk', 'ring-multiline', printk_seed([b'iommu: line one\nline two', b'',
                                             b'AMD-Vi: x']))


# --- dump: a bare note segment with the arch and generic ACPI notes -----------
# (the harness also hands its input to ish_snapshot_parse_notes)

def ish_note(ntype, desc):
    pad = (-len(desc)) % 4
    return struct.pack('<III', 8, len(desc), ntype) + b'IOMMUSH\0' + desc + b'\0' * pad


notes = (ish_note(1, struct.pack('<II', 0x00010000, 0)) +
         ish_note(5, b'vtd'.ljust(16, b'\0')) +
         ish_note(6, b'IVRS' + struct.pack('<I', 40) + bytes(32)) +
         ish_note(6, b'DMAR' + struct.pack('<I', 48) + bytes(40)))
put('dump', 'notes-arch-acpi', b'\x00' + notes)
