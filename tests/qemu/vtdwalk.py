# SPDX-License-Identifier: MIT
"""A deliberately small, independent VT-d reader for the lab's tests.

It exists so that the golden test can decide "is this traced mapping still
in memory?" without asking the decoder under test, and so that a capture can
be cut down to the pages that hold VT-d structures (a demo fixture).  It
reads an ELF core (PT_LOAD p_paddr = guest-physical address, as QEMU's
dump-guest-memory writes it) and the lab's regs.txt.  Every walk is bounded:
pointers outside memory end a path, a page is visited at most once.

Formats (Intel VT-d spec rev 3.x / 4.x):
  RTADDR_REG 0x20: 63:12 root table, 11:10 TTM (01 = scalable)      10.4.6
  legacy root entry 128b: lo 0 P, 63:12 CTP                            9.1
  scalable root entry 128b: lo 0 LP 63:12 LCTP, hi 0 UP 63:12 UCTP     9.2
  legacy context entry 128b: lo 0 P, 3:2 TT, 63:12 SLPTPTR;
                             hi 2:0 AW, 23:8 DID                       9.3
  scalable context entry 256b: lo 0 P, 11:9 PDTS, 63:12 PASIDDIRPTR    9.4
  PASID directory entry 64b: 0 P, 63:12 SMPTBLPTR                      9.5
  PASID table entry 512b: w0 0 P, 4:2 AW, 8:6 PGTT, 63:12 SLPTPTR;
                          w1 15:0 DID                                  9.6
  second-level PTE 64b: 0 R, 1 W, 7 PS, 51:12 address                  9.8
  IRTA_REG 0xb8: 63:12 base, 3:0 S (2^(S+1) entries of 16 bytes)     10.4.31
  IQA_REG 0x90: 63:12 base, 11 DW, 2:0 QS (2^QS 4 KiB pages)         10.4.24
"""

import re
import struct

PAGE = 4096
MAX_PAGES = 1 << 16  # bound for a full tree walk


def bits(x, hi, lo):
    return (x >> lo) & ((1 << (hi - lo + 1)) - 1)


class Core:
    """Guest-physical reads from an ELF64 core."""

    def __init__(self, path):
        self.f = open(path, "rb")
        h = self.f.read(64)
        if len(h) < 64 or h[:4] != b"\x7fELF" or h[4] != 2 or h[5] != 1:
            raise ValueError("%s: not a little-endian ELF64 file" % path)
        phoff, = struct.unpack_from("<Q", h, 0x20)
        phentsize, phnum = struct.unpack_from("<HH", h, 0x36)
        if phentsize < 56 or phnum > 4096:
            raise ValueError("%s: bad program headers" % path)
        self.f.seek(phoff)
        ph = self.f.read(phentsize * phnum)
        self.loads = []
        self.notes = []
        for i in range(phnum):
            if (i + 1) * phentsize > len(ph):
                break
            (typ, flags, off, vaddr, paddr, filesz, memsz,
             align) = struct.unpack_from("<IIQQQQQQ", ph, i * phentsize)
            if typ == 1:
                self.loads.append((paddr, filesz, off))
            elif typ == 4:
                self.notes.append((off, filesz))

    def read(self, addr, n):
        """n bytes at guest-physical addr, or None when not all are present."""
        for pa, size, off in self.loads:
            if pa <= addr and addr + n <= pa + size:
                self.f.seek(off + addr - pa)
                b = self.f.read(n)
                return b if len(b) == n else None
        return None

    def u64(self, addr):
        b = self.read(addr, 8)
        return None if b is None else struct.unpack("<Q", b)[0]

    def close(self):
        self.f.close()


def read_regs(path):
    """regs.txt as the lab writes it (first unit only; "0xOFF = 0xVAL" with
    4-byte values, or "0xOFF:64 = 0xVAL") -> {offset: u64 register}."""
    words = {}
    with open(path) as f:
        for line in f:
            m = re.match(r"\s*0x([0-9a-fA-F]+)(:64)?\s*=\s*0x([0-9a-fA-F]+)", line)
            if not m:
                continue
            off, val = int(m.group(1), 16), m.group(3)
            if not m.group(2):
                words[off] = int(val, 16)
            else:
                v = int(val, 16)
                words[off] = v & 0xffffffff
                words[off + 4] = v >> 32
    regs = {}
    for off in words:
        if off % 8 == 0:
            regs[off] = words[off] | (words.get(off + 4, 0) << 32)
    return regs


RTADDR, IQA, IRTA = 0x20, 0x90, 0xb8


class Walker:
    def __init__(self, core, regs):
        self.core = core
        self.rtaddr = regs.get(RTADDR, 0)
        self.scalable = bits(self.rtaddr, 11, 10) == 1
        self.root = self.rtaddr & ~0xfff & ((1 << 64) - 1)
        self.pages = set()  # every table page touched (fixture)

    def _touch(self, addr):
        self.pages.add(addr & ~0xfff)

    def context(self, bus, devfn):
        """(slptptr, levels, did) of the device's RID_PASID(0) second-level
        table, or None when the path is not present or not second-level."""
        c = self.core
        re_addr = self.root + bus * 16
        self._touch(re_addr)
        lo, hi = c.u64(re_addr), c.u64(re_addr + 8)
        if lo is None or hi is None:
            return None
        if not self.scalable:
            if not lo & 1:
                return None
            ce = (lo & ~0xfff) + devfn * 16
            self._touch(ce)
            clo, chi = c.u64(ce), c.u64(ce + 8)
            if clo is None or chi is None or not clo & 1:
                return None
            if bits(clo, 3, 2) not in (0, 1):  # pass-through etc.
                return None
            aw = bits(chi, 2, 0)
            return (clo & ~0xfff & ((1 << 52) - 1), aw + 2, bits(chi, 23, 8))
        half = lo if devfn < 128 else hi
        if not half & 1:
            return None
        ce = (half & ~0xfff) + (devfn & 0x7f) * 32
        self._touch(ce)
        clo = c.u64(ce)
        if clo is None or not clo & 1:
            return None
        pdir = clo & ~0xfff & ((1 << 52) - 1)
        self._touch(pdir)
        pde = c.u64(pdir)  # PASID 0 -> directory entry 0
        if pde is None or not pde & 1:
            return None
        pt = pde & ~0xfff & ((1 << 52) - 1)
        self._touch(pt)
        w0, w1 = c.u64(pt), c.u64(pt + 8)  # table entry 0
        if w0 is None or w1 is None or not w0 & 1 or bits(w0, 8, 6) != 2:
            return None
        return (w0 & ~0xfff & ((1 << 52) - 1), bits(w0, 4, 2) + 2, bits(w1, 15, 0))

    def leaf(self, bus, devfn, iova):
        """(pte_address, pte_value, page_size) of the leaf mapping iova, or
        None when not present."""
        ctx = self.context(bus, devfn)
        if ctx is None:
            return None
        table, levels, _ = ctx
        if not 2 <= levels <= 5:
            return None
        for level in range(levels, 0, -1):
            shift = 12 + 9 * (level - 1)
            addr = table + ((iova >> shift) & 0x1ff) * 8
            self._touch(addr)
            pte = self.core.u64(addr)
            if pte is None or not pte & 3:
                return None
            if level == 1 or (pte & 0x80 and level <= 3):
                return (addr, pte, 1 << shift)
            table = pte & ~0xfff & ((1 << 52) - 1)
        return None

    def walk_all(self):
        """Touch every page of every present table (for a fixture)."""
        c = self.core
        seen = set()
        for bus in range(256):
            for devfn in range(256):
                ctx = self.context(bus, devfn)
                if ctx is None or ctx[0] in seen:
                    continue
                stack = [(ctx[0], ctx[1])]
                while stack and len(self.pages) < MAX_PAGES:
                    table, level = stack.pop()
                    if table in seen or level < 1:
                        continue
                    seen.add(table)
                    self._touch(table)
                    raw = c.read(table, PAGE)
                    if raw is None or level == 1:
                        continue
                    for i, pte in enumerate(struct.unpack("<512Q", raw)):
                        if pte & 3 and not (pte & 0x80 and level <= 3):
                            stack.append((pte & ~0xfff & ((1 << 52) - 1), level - 1))

    def queue_pages(self, regs):
        """Interrupt-remapping table and invalidation queue pages."""
        out = set()
        irta = regs.get(IRTA, 0)
        if irta & ~0xfff:
            size = 16 << (bits(irta, 3, 0) + 1)
            base = irta & ~0xfff & ((1 << 52) - 1)
            out.update(range(base, base + max(size, PAGE), PAGE))
        iqa = regs.get(IQA, 0)
        if iqa & ~0xfff:
            base = iqa & ~0xfff & ((1 << 52) - 1)
            out.update(range(base, base + (PAGE << bits(iqa, 2, 0)), PAGE))
        return out


def write_core(path, core, pages):
    """An ELF64 core holding only `pages` (runs of them as PT_LOADs) plus
    the source's notes, laid out as QEMU's dump-guest-memory does."""
    runs = []
    for p in sorted(pages):
        if core.read(p, PAGE) is None:
            continue
        if runs and runs[-1][0] + runs[-1][1] == p:
            runs[-1][1] += PAGE
        else:
            runs.append([p, PAGE])
    notes = b""
    for off, size in core.notes[:1]:
        core.f.seek(off)
        notes = core.f.read(size)
    nph = len(runs) + (1 if notes else 0)
    phoff = 64
    data_off = phoff + 56 * nph
    ehdr = struct.pack("<4sBBBBB7sHHIQQQIHHHHHH", b"\x7fELF", 2, 1, 1, 0, 0, b"",
               4, 62, 1, 0, phoff, 0, 0, 64, 56, nph, 0, 0, 0)
    phdrs = b""
    body = b""
    off = data_off
    if notes:
        phdrs += struct.pack("<IIQQQQQQ", 4, 0, off, 0, 0, len(notes), len(notes), 0)
        body += notes
        off += len(notes)
    for pa, size in runs:
        phdrs += struct.pack("<IIQQQQQQ", 1, 0, off, pa, pa, size, size, 0)
        off += size
    with open(path, "wb") as f:
        f.write(ehdr + phdrs + body)
        for pa, size in runs:
            f.write(core.read(pa, size))
    return sum(r[1] for r in runs)


def write_fixture(indir, outdir):
    import os
    import shutil
    os.makedirs(outdir, exist_ok=True)
    core = Core(os.path.join(indir, "memory.elf"))
    regs = read_regs(os.path.join(indir, "regs.txt"))
    w = Walker(core, regs)
    w.walk_all()
    pages = w.pages | w.queue_pages(regs)
    n = write_core(os.path.join(outdir, "memory.elf"), core, pages)
    for name in ("regs.txt", "dmar.bin", "info.json"):
        if os.path.exists(os.path.join(indir, name)):
            shutil.copy(os.path.join(indir, name), os.path.join(outdir, name))
    print("fixture: %d pages (%d KiB) of VT-d structures -> %s"
          % (n // PAGE, n // 1024, outdir))
    core.close()
    return 0
