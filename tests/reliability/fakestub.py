#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A tiny fake of QEMU's gdbstub for fault injection (standard library only).

Usage: fakestub.py SOCKET IMAGE REGS [options]

Listens on the unix socket SOCKET and serves, in physical-memory mode, the
bytes of IMAGE from address 0 and a VT-d register block at 0xfed90000 whose
values come from REGS (NAME = VALUE lines as images.py writes them); other
addresses read as zeros, as QEMU's do. It answers what iommush's RSP client
asks during the handshake (qSupported with PacketSize=1000 and multiprocess+,
'?', qqemu.PhyMemMode / Qqemu.PhyMemMode:1), then m, M (recorded, answered
OK, the bytes are stored), D and D;pid. Anything else gets the empty reply
(unsupported). Connections are served one after the other, so a client can
reopen the target after a fault.

Faults, on the first connection only:
  --die-after N       close the socket on receiving packet N (1-based)
  --bad-checksum N    from packet N on, every reply carries a wrong checksum
  --garbage N         from packet N on, answer 'm' with a non-hex reply
  --delay S           sleep S seconds before every reply
Every packet received is appended to --log FILE, one per line, as
"CONN DATA" (CONN counts connections from 1); the line "CONN closed" ends a
connection. SIGTERM ends the stub.
"""
import argparse
import os
import re
import signal
import socket
import sys
import time

BASE = 0xfed90000
REG_OFFSETS = {  # VT-d 11.4 register offsets (Linux iommu.h DMAR_*_REG)
    "VER": (0x00, 4), "CAP": (0x08, 8), "ECAP": (0x10, 8), "GCMD": (0x18, 4),
    "GSTS": (0x1c, 4), "RTADDR": (0x20, 8), "CCMD": (0x28, 8), "FSTS": (0x34, 4),
    "FECTL": (0x38, 4), "IQH": (0x80, 8), "IQT": (0x88, 8), "IQA": (0x90, 8),
    "ICS": (0x9c, 4), "IRTA": (0xb8, 8),
}


def load_regs(path):
    block = bytearray(0x1000)
    for line in open(path):
        line = line.split("#")[0].strip()
        if "=" not in line or line.startswith("["):
            continue
        name, val = (x.strip() for x in line.split("=", 1))
        if name in REG_OFFSETS:
            off, w = REG_OFFSETS[name]
            block[off:off + w] = int(val, 0).to_bytes(w, "little")
    return block


class Stub:
    def __init__(self, a):
        self.a = a
        with open(a.image, "rb") as f:
            self.mem = bytearray(f.read())
        self.regs = load_regs(a.regs)
        self.log = open(a.log, "a", buffering=1) if a.log else None
        self.conn_no = 0

    def read(self, addr, n):
        out = bytearray(n)
        for i in range(n):
            x = addr + i
            if x < len(self.mem):
                out[i] = self.mem[x]
            elif BASE <= x < BASE + len(self.regs):
                out[i] = self.regs[x - BASE]
        return bytes(out)

    def write(self, addr, data):
        for i, b in enumerate(data):
            x = addr + i
            if x < len(self.mem):
                self.mem[x] = b
            elif BASE <= x < BASE + len(self.regs):
                self.regs[x - BASE] = b

    def answer(self, pkt, state):
        if pkt.startswith("qSupported"):
            return "PacketSize=1000;qXfer:features:read+;multiprocess+"
        if pkt == "?":
            return "T05thread:p01.01;"
        if pkt == "qqemu.PhyMemMode":
            return "1" if state["phys"] else "0"
        if pkt == "Qqemu.PhyMemMode:1":
            state["phys"] = True
            return "OK"
        m = re.fullmatch(r"m([0-9a-fA-F]+),([0-9a-fA-F]+)", pkt)
        if m:
            addr, n = int(m.group(1), 16), int(m.group(2), 16)
            if n > 2048:
                return "E22"
            if state["garbage"]:
                return "zz" * n
            return self.read(addr, n).hex()
        m = re.fullmatch(r"M([0-9a-fA-F]+),([0-9a-fA-F]+):([0-9a-fA-F]*)", pkt)
        if m:
            self.write(int(m.group(1), 16), bytes.fromhex(m.group(3)))
            return "OK"
        if pkt == "D" or pkt.startswith("D;"):
            state["detach"] = True
            return "OK"
        return ""

    def serve(self, c):
        self.conn_no += 1
        first = self.conn_no == 1
        state = {"phys": False, "detach": False, "garbage": False, "last": b""}
        npkt, buf = 0, b""
        try:
            while True:
                data = c.recv(65536)
                if not data:
                    return
                buf += data
                while True:
                    # A '-' asks for the last reply again (GDB manual, "Packet
                    # Acknowledgment"); a bad checksum stays bad when resent.
                    while buf[:1] in (b"+", b"-", b"\x03"):
                        if buf[:1] == b"-" and state["last"]:
                            c.sendall(state["last"])
                        buf = buf[1:]
                    i = buf.find(b"$")
                    j = buf.find(b"#", i + 1)
                    if i < 0 or j < 0 or len(buf) < j + 3:
                        break
                    pkt = buf[i + 1:j].decode("latin-1")
                    buf = buf[j + 3:]
                    npkt += 1
                    if self.log:
                        self.log.write("%d %s\n" % (self.conn_no, pkt))
                    if first and self.a.die_after and npkt >= self.a.die_after:
                        return
                    c.sendall(b"+")
                    if first and self.a.garbage and npkt >= self.a.garbage:
                        state["garbage"] = True
                    rep = self.answer(pkt, state).encode("latin-1")
                    cks = sum(rep) & 0xff
                    if first and self.a.bad_checksum and npkt >= self.a.bad_checksum:
                        cks ^= 0x5a
                    if self.a.delay:
                        time.sleep(self.a.delay)
                    state["last"] = b"$" + rep + b"#%02x" % cks
                    c.sendall(state["last"])
                    if state["detach"]:
                        return
        except OSError:
            return
        finally:
            if self.log:
                self.log.write("%d closed\n" % self.conn_no)
            c.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("socket")
    ap.add_argument("image")
    ap.add_argument("regs")
    ap.add_argument("--die-after", type=int, default=0)
    ap.add_argument("--bad-checksum", type=int, default=0)
    ap.add_argument("--garbage", type=int, default=0)
    ap.add_argument("--delay", type=float, default=0)
    ap.add_argument("--log")
    a = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    stub = Stub(a)
    if os.path.exists(a.socket):
        os.unlink(a.socket)
    s = socket.socket(socket.AF_UNIX)
    s.bind(a.socket)
    s.listen(4)
    while True:
        c, _ = s.accept()
        stub.serve(c)


if __name__ == "__main__":
    main()
