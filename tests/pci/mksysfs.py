#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Lay out a fake Linux sysfs PCI tree from the config space an iommush
snapshot captured (its ISH_NT_PCICFG notes, include/iommush/snapshot.h).

    mksysfs.py SNAPSHOT TREE [--config-len N] [--no-vendor BDF]

TREE/devices/SSSS:BB:DD.F/ gets what libpci's linux-sysfs method reads
(pciutils lib/sysfs.c): config (the bytes), vendor, device, class,
revision, subsystem_vendor, subsystem_device, irq, resource; as the kernel
writes them (drivers/pci/pci-sysfs.c): "0x%04x\\n" for ids, "0x%06x\\n" for
the class. --config-len truncates every config file (what a non-root user
sees is 64 bytes); --no-vendor drops one function's vendor file.
"""
import argparse
import os
import struct
import sys

NT_PCICFG = 4


def notes(path):
    data = open(path, 'rb').read()
    if data[:4] != b'\x7fELF' or data[4] != 2 or data[5] != 1:
        sys.exit('%s: not a little-endian ELF64 file' % path)
    phoff, = struct.unpack_from('<Q', data, 0x20)
    phentsize, phnum = struct.unpack_from('<HH', data, 0x36)
    for i in range(phnum):
        ptype, _, off, _, _, filesz = struct.unpack_from('<IIQQQQ', data, phoff + i * phentsize)
        if ptype != 4:  # PT_NOTE
            continue
        pos, end = off, off + filesz
        while pos + 12 <= end:
            namesz, descsz, ntype = struct.unpack_from('<III', data, pos)
            name = data[pos + 12:pos + 12 + namesz].rstrip(b'\0')
            desc = pos + 12 + ((namesz + 3) & ~3)
            yield name, ntype, data[desc:desc + descsz]
            pos = desc + ((descsz + 3) & ~3)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('snapshot')
    ap.add_argument('tree')
    ap.add_argument('--config-len', type=int, default=None)
    ap.add_argument('--no-vendor', default=None)
    a = ap.parse_args()
    devdir = os.path.join(a.tree, 'devices')
    os.makedirs(devdir, exist_ok=True)
    n = 0
    for name, ntype, desc in notes(a.snapshot):
        if name != b'IOMMUSH' or ntype != NT_PCICFG:
            continue
        seg, bdf, length = struct.unpack_from('<HHI', desc, 0)
        cfg = desc[8:8 + length]
        addr = '%04x:%02x:%02x.%u' % (seg, bdf >> 8, (bdf >> 3) & 0x1f, bdf & 7)
        d = os.path.join(devdir, addr)
        os.makedirs(d, exist_ok=True)
        vendor, device = struct.unpack_from('<HH', cfg, 0)
        rev_class, = struct.unpack_from('<I', cfg, 8)
        sub_vendor, sub_device = struct.unpack_from('<HH', cfg, 0x2c)
        files = {
            'vendor': '0x%04x\n' % vendor,
            'device': '0x%04x\n' % device,
            'class': '0x%06x\n' % (rev_class >> 8),
            'revision': '0x%02x\n' % (rev_class & 0xff),
            'subsystem_vendor': '0x%04x\n' % sub_vendor,
            'subsystem_device': '0x%04x\n' % sub_device,
            'irq': '%u\n' % cfg[0x3c],
            'resource': '0x0000000000000000 0x0000000000000000 0x0000000000000000\n' * 7,
        }
        if a.no_vendor == addr:
            del files['vendor']
        for f, text in files.items():
            with open(os.path.join(d, f), 'w') as fh:
                fh.write(text)
        with open(os.path.join(d, 'config'), 'wb') as fh:
            fh.write(cfg if a.config_len is None else cfg[:a.config_len])
        n += 1
    if not n:
        sys.exit('%s: no PCI configuration space notes' % a.snapshot)
    print(n)


if __name__ == '__main__':
    main()
