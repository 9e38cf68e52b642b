# SPDX-License-Identifier: MIT
"""Builders for hostile VT-d inputs: raw physical-memory images with a
register file (NAME=VALUE lines, include/iommush/regsfile.h), ELF cores, and
ACPI DMAR tables. Standard library only.

Bit positions are those of the Intel VT-d specification 5.0: root entry 9.1
and scalable root 9.2, context entry 9.3 and scalable context 9.4, PASID
directory 9.5, PASID entry 9.6, second-level paging entries 9.8, IRTE 9.10,
registers 11.4 (CAP 11.4.2, ECAP 11.4.3, GSTS 11.4.5, RTADDR 11.4.6,
IQA 11.4.9.3, IRTA 11.4.10.1). Every structure is placed here, independently
of the code under test, so this layout is the oracle for the expected texts.
"""
import os
import struct

PAGE = 0x1000
BASE = 0xfed90000               # the q35 register block

# CAP: ND=2 (2:0), SAGAW 39+48 bits (bits 9, 10), MGAW 47 (21:16), FRO 0x22
# (33:24, in 16-byte units), NFR 3 (47:40), SLLPS 2M+1G (37:34).
CAP = 2 | (0x6 << 8) | (47 << 16) | (0x22 << 24) | (3 << 34) | (3 << 40)
# ECAP: QI (1), IR (3), PT (6), SC (7), IRO 0x20 (17:8)
ECAP = (1 << 1) | (1 << 3) | (1 << 6) | (1 << 7) | (0x20 << 8)
# scalable: + PASID (40), PSS 19 (39:35), SMTS (43), SLTS (46), FLTS (47)
ECAP_SM = ECAP | (1 << 40) | (19 << 35) | (1 << 43) | (1 << 46) | (1 << 47)

TES, RTPS, QIES, IRES, IRTPS = 1 << 31, 1 << 30, 1 << 26, 1 << 25, 1 << 24


class Image:
    """A raw image of size bytes at physical address 0, and one remapping unit."""

    def __init__(self, size=1 << 20, scalable=False):
        self.mem = bytearray(size)
        self.scalable = scalable
        self.next = 0x10000
        self.regs = {"VER": 0x10, "CAP": CAP, "ECAP": ECAP_SM if scalable else ECAP,
                     "GSTS": TES | RTPS, "FSTS": 0, "FECTL": 0,
                     "IQA": 0, "IQH": 0, "IQT": 0, "IRTA": 0}
        self.root = self.alloc()
        self.regs["RTADDR"] = self.root | ((1 << 10) if scalable else 0)
        self.ctx = {}

    def alloc(self, n=1):
        p = self.next
        self.next += PAGE * n
        assert self.next <= len(self.mem), "image exhausted"
        return p

    def w64(self, addr, v):
        struct.pack_into("<Q", self.mem, addr, v & (2**64 - 1))

    def r64(self, addr):
        return struct.unpack_from("<Q", self.mem, addr)[0]

    def context_addr(self, bus, devfn):
        """Address of the context entry of bus:devfn, making root entry and table."""
        if self.scalable:
            upper = 1 if devfn >= 128 else 0
            key = (bus, upper)
            if key not in self.ctx:
                self.ctx[key] = self.alloc()
                self.w64(self.root + bus * 16 + upper * 8, self.ctx[key] | 1)
            return self.ctx[key] + (devfn % 128) * 32
        if bus not in self.ctx:
            self.ctx[bus] = self.alloc()
            self.w64(self.root + bus * 16, self.ctx[bus] | 1)
        return self.ctx[bus] + devfn * 16

    def device(self, bus=0, devfn=8, levels=4, did=1, slpt=None, aw=None):
        """Legacy context entry: TT 0, AW = levels - 2 unless given. Returns SL root."""
        ca = self.context_addr(bus, devfn)
        if slpt is None:
            slpt = self.alloc()
        self.w64(ca, slpt | 1)
        self.w64(ca + 8, (levels - 2 if aw is None else aw) | (did << 8))
        return slpt

    def sm_device(self, bus=0, devfn=8, did=1, levels=4):
        """Scalable context entry (PDTS 0, PASIDE), directory, table, RID_PASID 0."""
        ca = self.context_addr(bus, devfn)
        d = self.alloc()
        self.w64(ca, d | (1 << 3) | 1)
        tab = self.alloc()
        self.w64(d, tab | 1)
        sl = self.alloc()
        self.w64(tab, sl | (2 << 6) | ((levels - 2) << 2) | 1)   # PGTT 2 (SL only)
        self.w64(tab + 8, did)
        return {"ctx": ca, "dir": d, "table": tab, "sl": sl}

    def map4k(self, root, iova, hpa, levels=4, perm=3):
        """One 4 KiB read/write mapping, making tables as needed."""
        t = root
        for level in range(levels, 1, -1):
            ea = t + ((iova >> (12 + 9 * (level - 1))) & 511) * 8
            e = self.r64(ea)
            if e & 3 == 0:
                n = self.alloc()
                self.w64(ea, n | 3)
                t = n
            else:
                t = e & 0x000ffffffffff000
        self.w64(t + ((iova >> 12) & 511) * 8, hpa | perm)
        return t

    def write(self, d, name="image"):
        """Writes d/NAME.raw and d/NAME.regs; returns the iommush arguments."""
        raw = os.path.join(d, name + ".raw")
        regs = os.path.join(d, name + ".regs")
        with open(raw, "wb") as f:
            f.write(self.mem)
        with open(regs, "w") as f:
            f.write("[dmar0 @ %#x]\n" % BASE)
            for k, v in self.regs.items():
                f.write("%s = %#x\n" % (k, v))
        return [raw, "-O", "dump.regs=" + regs]


# --- ELF cores (System V gABI ELF-64) ---

def elf_core(path, loads, notes=b"", truncate_to=None):
    """loads: [(paddr, bytes, filesz_override_or_None)]; writes an ET_CORE file."""
    ehsize, phsize = 64, 56
    nph = len(loads) + (1 if notes else 0)
    off = ehsize + phsize * nph
    phdrs, blobs = [], []
    if notes:
        phdrs.append(struct.pack("<IIQQQQQQ", 4, 0, off, 0, 0, len(notes), 0, 4))
        blobs.append(notes)
        off += len(notes)
    off = (off + PAGE - 1) & ~(PAGE - 1)
    pad = off - (ehsize + phsize * nph + len(notes))
    data = b""
    for paddr, b, filesz in loads:
        fs = len(b) if filesz is None else filesz
        phdrs.append(struct.pack("<IIQQQQQQ", 1, 4, off + len(data), 0, paddr, fs, len(b), PAGE))
        data += b
    ident = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)
    eh = ident + struct.pack("<HHIQQQIHHHHHH", 4, 62, 1, 0, ehsize, 0, 0, ehsize, phsize,
                             nph, 0, 0, 0)
    out = eh + b"".join(phdrs) + notes + bytes(pad) + data
    if truncate_to is not None:
        out = out[:truncate_to]
    with open(path, "wb") as f:
        f.write(out)
    return len(out)


def note(name, ntype, desc):
    n = name.encode() + b"\0"
    pad = lambda b: b + bytes((4 - len(b) % 4) % 4)
    return struct.pack("<III", len(n), len(desc), ntype) + pad(n) + pad(desc)


def unit_note(regs, name="dmar0", base=BASE):
    """An ISH_NT_UNIT note (include/iommush/snapshot.h) from {offset: (width, value)}."""
    body = name.encode().ljust(16, b"\0") + struct.pack("<HBBIQ", 0, 1, 1, len(regs), base)
    for off in sorted(regs):
        w, v = regs[off]
        body += struct.pack("<IIQ", off, w, v)
    return note("IOMMUSH", 1, struct.pack("<II", 0x00010000, 0)) + note("IOMMUSH", 2, body)


# --- ACPI DMAR (ACPICA actbl1.h acpi_table_dmar, acpi_dmar_hardware_unit) ---

def acpi_checksum(b):
    b = bytearray(b)
    b[9] = 0
    b[9] = (-sum(b)) & 0xff
    return bytes(b)


def dmar_table(structs, length=None):
    body = struct.pack("<BB10s", 47, 0x1, bytes(10))        # HAW-1, flags INTR_REMAP
    hdr_len = 36 + len(body) + sum(len(s) for s in structs)
    hdr = struct.pack("<4sIBB6s8sI4sI", b"DMAR", hdr_len if length is None else length, 1, 0,
                      b"IOMMSH", b"RELIABLE", 1, b"ISH ", 1)
    return acpi_checksum(hdr + body + b"".join(structs))


def drhd(base=BASE, flags=1, scopes=b"", length=None):
    n = 16 + len(scopes)
    return struct.pack("<HHBBHQ", 0, n if length is None else length, flags, 0, 0, base) + scopes


def dev_scope(typ, bus, path, length=None):
    n = 6 + 2 * len(path)
    b = struct.pack("<BBHBB", typ, n if length is None else length, 0, 0, bus)
    for d, f in path:
        b += bytes([d, f])
    return b
