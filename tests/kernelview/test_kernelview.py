#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The kernel's own view (`kernel`) against the hardware it describes.

The lab's Debian 6.1 guest (tests/qemu/lab.py) boots with -device
intel-iommu (legacy or scalable mode) and -device vmcoreinfo, with
qemu_fw_cfg.ko (taken from the same kernel package) loaded by /init so the
guest tells QEMU where its VMCOREINFO note is. At the ready marker the lab
stops the guest, reads the unit's registers with the monitor's `xp`, and
asks iommush `kernel --json` through the gdbstub, where VMCOREINFO must be
found by the RAM scan; then `dump-guest-memory` writes an ELF core whose
PT_NOTE carries VMCOREINFO, and `kernel --json` on that file must say the
same (but for where VMCOREINFO came from). Checked for each unit the
kernel holds:

  cap, ecap              = the CAP and ECAP registers
  pa(root_entry) | SM    = RTADDR (bit 10 when the unit runs in scalable mode)
  pa(qi->desc)           = IQA's base (bits 63:12)
  qi->free_head          = IQT / descriptor size (the software tail equals the
                           hardware tail at a stop)
  pa(ir_table->base)     = IRTA's base (bits 63:12)

  Then the same ELF dump with no options (no dump.regs: registers are the
  kernel's copies, marked source=kernel) answers units, devices (but the
  vendor names: a dump has no config space), every device's mappings,
  irte all and iq as the gdbstub does at the same stop; iq differs in IQA's
  DW bit in scalable mode (QEMU reads it back as 0) and in ICS, IQERCD and
  FSTS, which the kernel keeps no copy of (logged, not failed).

  dmar_drhd_unit's include_all and segment = the DRHD's flags bit 0 and segment
  (--kaslr: the compressed bzImage boots, so KASLR moves the kernel and the
  direct map: KERNELOFFSET and page_offset_base must differ from the defaults)

  test_kernelview.py IOMMUSH OUTDIR --mode legacy|scalable [--kaslr] [-v]

Exit 0 pass, 1 fail, 77 skip (no QEMU, no guest kernel). Standard library only.
"""

import argparse
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
import ishtest  # noqa: E402
ishtest.use('qemu', 'guest', 'edu')
import lab  # noqa: E402
from test_guest import shared_libs  # noqa: E402
from test_edu import Rsp, find_edu, ECAM, EDU_BUF  # noqa: E402

DMESG_BEGIN = "ISH-DMESG-BEGIN"
DMESG_END = "ISH-DMESG-END"
FAULT_IOVA = 0x7000     # nothing is mapped for edu, which has no driver

KV_BEGIN = "ISH-KV-BEGIN"
KV_END = "ISH-KV-END"

VERBOSE = False


def log(msg):
    print("kernelview: " + msg, file=sys.stderr, flush=True)


class Failure(Exception):
    pass


def fw_cfg_module(cache, dest):
    """qemu_fw_cfg.ko from the lab's kernel package (the lab keeps only the
    modules it needs; this one is extracted here, into the test's dir)."""
    deb = lab.find_deb(cache)
    if deb is None:
        raise lab.Skip("no kernel package in the lab cache")
    out = os.path.join(dest, "qemu_fw_cfg.ko")
    if os.path.exists(out):
        return out
    import tarfile
    # stderr: dpkg-deb complains of the pipe closed once the module is found
    p = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", deb], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL)
    found = False
    with tarfile.open(fileobj=p.stdout, mode="r|") as tar:
        for ti in tar:
            if ti.isfile() and ti.name.endswith("/qemu_fw_cfg.ko"):
                with open(out, "wb") as f:
                    f.write(tar.extractfile(ti).read())
                found = True
                break
    p.stdout.close()
    p.wait()
    if not found:
        raise lab.Skip("the kernel package has no qemu_fw_cfg.ko")
    return out


def iommush(binary, target, cmds, extra=()):
    argv = [binary, target, "--json"] + list(extra)
    for c in cmds:
        argv += ["-c", c]
    t0 = time.time()
    p = subprocess.run(argv, capture_output=True, text=True, timeout=600)
    secs = time.time() - t0
    if VERBOSE:
        log("$ %s  (%.2f s, exit %d)" % (" ".join(argv), secs, p.returncode))
        if p.stderr:
            log(p.stderr.strip())
    return p, secs


def check(cond, msg, failures):
    if not cond:
        failures.append(msg)
        log("FAIL: " + msg)
    elif VERBOSE:
        log("ok: " + msg)


def drhds(dmar):
    """{base: (flags, segment)} of the DRHDs of a raw DMAR table (ACPICA
    actbl1.h acpi_dmar_hardware_unit: type, length, flags, size, segment, address)."""
    import struct
    out = {}
    off = 48
    while off + 16 <= len(dmar):
        typ, length = struct.unpack_from("<HH", dmar, off)
        if length < 4:
            break
        if typ == 0:
            flags, _, seg, base = struct.unpack_from("<BBHQ", dmar, off + 4)
            out[base] = (flags, seg)
        off += length
    return out


def regs_of(words, off, width=64):
    lo = words.get(off)
    if lo is None:
        raise Failure("register at %#x not read" % off)
    if width == 32:
        return lo
    return lo | words.get(off + 4, 0) << 32


def fix_qemu_elf(src, dst):
    """makedumpfile 1.7.2 reads program headers right after the ELF header,
    ignoring e_phoff (FACTS-kernel-state.md); QEMU 7.2 puts section headers
    there (e_shoff 64, e_phoff 192, e_ehsize 8). Rewrite the header so the
    program headers sit at 64, as /proc/vmcore lays them out; the data
    offsets they hold are unchanged."""
    shutil.copyfile(src, dst)
    with open(dst, "r+b") as f:
        eh = bytearray(f.read(64))
        phoff, shoff = struct.unpack_from("<QQ", eh, 0x20)
        phentsize, phnum = struct.unpack_from("<HH", eh, 0x36)
        f.seek(phoff)
        ph = f.read(phentsize * phnum)
        struct.pack_into("<QQ", eh, 0x20, 64, 0)            # e_phoff, e_shoff
        struct.pack_into("<H", eh, 0x34, 64)                # e_ehsize
        struct.pack_into("<HHH", eh, 0x3a, 0, 0, 0)         # e_shentsize, e_shnum, e_shstrndx
        f.seek(0)
        f.write(eh)
        f.write(ph)


def kdump_codecs(path):
    """{codec: pages} of a (non-flattened) kdump-compressed file, read
    independently of iommush: says whether a makedumpfile option really
    compressed (Debian 12's 1.7.2 is built without snappy and zstd)."""
    names = {0: "raw", 1: "zlib", 2: "lzo", 4: "snappy", 0x20: "zstd"}
    with open(path, "rb") as f:
        h = f.read(464)
        if h[:8] != b"KDUMP   ":
            return None
        block, sub, bm = struct.unpack_from("<iiI", h, 428)
        f.seek((1 + sub) * block + bm * block // 2)
        bitmap2 = f.read(bm * block // 2)
        n = sum(bin(b).count("1") for b in bitmap2)
        f.seek((1 + sub + bm) * block)
        d = f.read(24 * n)
    out = {}
    for i in range(n):
        fl = struct.unpack_from("<I", d, 24 * i + 12)[0] & 0x27
        out[names.get(fl, hex(fl))] = out.get(names.get(fl, hex(fl)), 0) + 1
    return out


def first_excluded(path):
    """The first page a kdump-compressed file's 1st bitmap calls RAM and its 2nd leaves out."""
    with open(path, "rb") as f:
        h = f.read(464)
        block, sub, bm = struct.unpack_from("<iiI", h, 428)
        f.seek((1 + sub) * block)
        b1 = f.read(bm * block // 2)
        b2 = f.read(bm * block // 2)
    for i, (x, y) in enumerate(zip(b1, b2)):
        if x & ~y:
            return (8 * i + ((x & ~y) & -(x & ~y)).bit_length() - 1) * block
    return None


def walk_answers(binary, target, regs_path, failures, what):
    """devices, then mappings of every device, as JSON, with the register file."""
    opts = ["-O", "dump.regs=" + regs_path]
    pd, _ = iommush(binary, target, ["devices"], opts)
    if pd.returncode:
        failures.append("%s: devices: exit %d: %s" % (what, pd.returncode, pd.stderr.strip()))
        return None
    devs = json.loads(pd.stdout)
    bdfs = sorted({d["bdf"] for d in devs if d.get("valid")})
    cmds = ["mappings %s" % b for b in bdfs]
    pm, secs = iommush(binary, target, cmds, opts) if cmds else (None, 0)
    maps = pm.stdout if pm else ""
    if pm and pm.returncode:
        failures.append("%s: mappings: exit %d: %s" % (what, pm.returncode, pm.stderr.strip()))
    return devs, maps


def all_dump_formats(args, qmp, out, elf, kg, regs, failures):
    """At the same stop: QEMU's -z (flattened zlib), -l and -s, and Debian's
    makedumpfile -c/-l/-z/-p -d 31, -E -d 31 and -F on the ELF. Each must
    give the gdbstub's kernel --json through the VMCOREINFO it carries, and
    the ELF dump's devices and mappings given the register file."""
    made = []
    cap = qmp.cmd("query-dump-guest-memory-capability")
    have = set(cap.get("formats", [])) if isinstance(cap, dict) else set()
    for fmt, name in (("kdump-zlib", "qemu-z.dump"), ("kdump-lzo", "qemu-l.dump"),
                      ("kdump-snappy", "qemu-s.dump")):
        if have and fmt not in have:
            log("QEMU cannot write %s here: skipped" % fmt)
            continue
        path = os.path.join(out, name)
        qmp.cmd("dump-guest-memory", timeout=300, paging=False, protocol="file:" + path,
                format=fmt)
        made.append((name, path, "kdump sub-header"))
    mdf = shutil.which("makedumpfile") or (os.path.exists("/usr/sbin/makedumpfile") and
                                           "/usr/sbin/makedumpfile")
    if mdf:
        fixed = os.path.join(out, "fixed.elf")
        fix_qemu_elf(elf, fixed)
        for name, opts, where in (("mdf-c31.dump", ["-c", "-d", "31"], "kdump sub-header"),
                                  ("mdf-l31.dump", ["-l", "-d", "31"], "kdump sub-header"),
                                  ("mdf-z31.dump", ["-z", "-d", "31"], "kdump sub-header"),
                                  ("mdf-p31.dump", ["-p", "-d", "31"], "kdump sub-header"),
                                  ("mdf-E31.elf", ["-E", "-d", "31"], "ELF note"),
                                  ("mdf-F.dump", ["-F", "-c", "-d", "31"], "kdump sub-header")):
            path = os.path.join(out, name)
            if os.path.exists(path):
                os.unlink(path)
            if "-F" in opts:
                with open(path, "wb") as fo:
                    r = subprocess.run([mdf] + opts + [fixed], stdout=fo,
                                       stderr=subprocess.PIPE, text=True, timeout=300)
            else:
                r = subprocess.run([mdf] + opts + [fixed, path], capture_output=True, text=True,
                                   timeout=300)
            if r.returncode:
                msg = r.stderr.strip().splitlines()[-3:]
                if opts[0] in ("-z", "-p"):
                    log("makedumpfile %s: not supported by this build (%s): skipped"
                        % (opts[0], " / ".join(msg)))
                else:
                    failures.append("makedumpfile %s: exit %d: %s"
                                    % (" ".join(opts), r.returncode, " / ".join(msg)))
                continue
            made.append((name, path, where))
        os.unlink(fixed)
    else:
        log("no makedumpfile: only QEMU's formats")
    regs_path = os.path.join(out, "dump.regs")
    base = sorted(regs)[0]
    lab.write_regs(regs_path, regs[base], "offsets32", base)
    ref = walk_answers(args.iommush, elf, regs_path, failures, "ELF")
    a = dict(kg, source=None)
    for name, path, where in made:
        pk, secs = iommush(args.iommush, path, ["kernel"])
        if pk.returncode:
            failures.append("%s: kernel: exit %d: %s" % (name, pk.returncode, pk.stderr.strip()))
            continue
        k = json.loads(pk.stdout)
        codecs = kdump_codecs(path)
        if codecs:
            log("%s: pages by codec %s" % (name, codecs))
        check(k["source"] == where, "%s: VMCOREINFO from the %s (%s)" % (name, where, k["source"]),
              failures)
        check(dict(k, source=None) == a, "%s (%d bytes): kernel --json = the gdbstub's (%.2f s)"
              % (name, os.path.getsize(path), secs), failures)
        w = walk_answers(args.iommush, path, regs_path, failures, name)
        if ref and w:
            check(w[0] == ref[0], "%s: devices = the ELF dump's (%d)" % (name, len(ref[0])),
                  failures)
            check(w[1] == ref[1], "%s: mappings of every device = the ELF dump's (%d bytes)"
                  % (name, len(ref[1])), failures)
    # the kernel's log and its faults: as the ELF dump's
    if "mdf-c31.dump" in dict((n, p) for n, p, _ in made):
        c31 = dict((n, p) for n, p, _ in made)["mdf-c31.dump"]
        def same(out):
            # but where VMCOREINFO came from (ELF note / kdump sub-header)
            v = json.loads(out) if out.strip() else None
            for o in v if isinstance(v, list) else []:
                if isinstance(o, dict) and o.get("source") == "kernel log":
                    o["vmcoreinfo"] = None
            return v
        for cmd in ("log", "faults", "kernel devices"):
            pe, _ = iommush(args.iommush, elf, [cmd])
            pc, _ = iommush(args.iommush, c31, [cmd])
            check(pe.returncode == pc.returncode == 0 and same(pe.stdout) == same(pc.stdout) and
                  same(pe.stdout),
                  "mdf-c31.dump: %s = the ELF dump's (%d bytes)" % (cmd, len(pc.stdout)),
                  failures)
    # a page -d 31 left out reads as an error saying so, in kdump-compressed,
    # flattened and -E ELF alike (not as zeros)
    ex = dict((n, p) for n, p, _ in made)
    if "mdf-c31.dump" in ex:
        addr = first_excluded(ex["mdf-c31.dump"])
        for name in ("mdf-c31.dump", "mdf-F.dump", "mdf-E31.elf"):
            if addr is None or name not in ex:
                continue
            pr, _ = iommush(args.iommush, ex[name], [],
                            ["-e", "print(iommu.target():read64(%d))" % addr])
            check("is excluded from the dump by makedumpfile" in pr.stdout + pr.stderr,
                  "%s: page %#x (left out by -d 31) reads as excluded: %s"
                  % (name, addr, (pr.stdout + pr.stderr).strip()), failures)
    for name, path, _ in made:
        if not args.keep:
            os.unlink(path)


def run(args):
    q = lab.qemu_binary()
    cache = lab.cache_dir()
    out = os.path.abspath(os.path.join(args.outdir, args.mode + ("-kaslr" if args.kaslr else "")))
    os.makedirs(out, exist_ok=True)
    # Under the lab's lock: the cache is shared, and a fetch from another tree
    # (another init's mtime) rebuilds it; what this boot needs is linked into
    # out/ before anyone can.
    import fcntl
    with open(os.path.join(cache, ".lock"), "w") as lk:
        fcntl.flock(lk, fcntl.LOCK_EX)
        lab.fetch_locked(cache)
        st = lab.stamp_of(cache)
        src = st["bzimage"] if args.kaslr else st["kernel"]
        kernel = os.path.join(out, os.path.basename(src))
        try:
            os.unlink(kernel)
        except FileNotFoundError:
            pass
        try:
            os.link(src, kernel)
        except OSError:
            shutil.copy(src, kernel)
        ko = fw_cfg_module(cache, out)
        # /init loads qemu_fw_cfg, then asks iommush inside the guest, through
        # /proc/kcore (its VMCOREINFO note) with registers by MMIO (iomem=relaxed)
        hook = ("insmod /lib/modules/qemu_fw_cfg.ko && "
                "[ -e /sys/firmware/qemu_fw_cfg/by_name/etc/vmcoreinfo ] && echo ISH-FWCFG ok\n"
                "export HOME=/tmp NO_COLOR=1 PATH=/usr/bin:/bin\n"
                "echo %s; /usr/bin/iommush kcore --json -c kernel 2>&1; echo \"%s rc=$?\"\n"
                % (KV_BEGIN, KV_END) +
                # once edu's DMA fault is logged, the guest's own dmesg of it
                "( i=0; while [ $i -lt 300 ] && ! dmesg | grep -q 'fault addr'; do sleep 1; "
                "i=$((i+1)); done; echo %s; dmesg | grep DMAR; echo %s ) &\n"
                % (DMESG_BEGIN, DMESG_END))
        files = [(ko, "/lib/modules/qemu_fw_cfg.ko"),
                 (os.path.realpath(args.iommush), "/usr/bin/iommush")] + \
            shared_libs(args.iommush)
        initrd = lab.derived_initrd(os.path.join(out, "initrd"), hook, files=files)
    for n in ("memory.elf", "qmp.sock", "gdb.sock", "console.log"):
        try:
            os.unlink(os.path.join(out, n))
        except FileNotFoundError:
            pass
    disk = os.path.join(out, "disk.img")
    lab.make_disk(disk, 1 << 20, "iommush-virtio-blk ")
    nvme = os.path.join(out, "nvme.img")
    lab.make_disk(nvme, 1 << 20, "iommush-nvme ")
    sock = os.path.join(out, "qmp.sock")
    gdbsock = os.path.join(out, "gdb.sock")
    console = os.path.join(out, "console.log")
    cmdline = ("console=ttyS0 intel_iommu=on iommu.strict=1 iomem=relaxed loglevel=1 panic=-1 "
               "rdinit=/init ish.busy=0 no_timer_check")  # the IO-APIC check panics under load
    cmd = [q, "-machine", "q35,kernel-irqchip=split", "-cpu", "max",
           "-m", "256", "-smp", "1", "-vga", "none", "-display", "none",
           "-no-reboot", "-nodefaults",
           "-device", lab.MODES[args.mode], "-device", "vmcoreinfo",
           "-kernel", kernel, "-initrd", initrd, "-append", cmdline,
           "-serial", "file:" + console,
           "-qmp", "unix:%s,server=on,wait=off" % sock,
           "-gdb", "unix:%s,server=on,wait=off" % gdbsock,
           "-netdev", "user,id=n0,restrict=on", "-device", "e1000e,netdev=n0",
           "-drive", "file=%s,format=raw,if=none,id=d0,readonly=on" % disk,
           "-device", "virtio-blk-pci,drive=d0,iommu_platform=on,disable-legacy=on",
           "-drive", "file=%s,format=raw,if=none,id=d1" % nvme,
           "-device", "nvme,serial=ish0,drive=d1", "-device", "edu"]
    qlog = open(os.path.join(out, "qemu.log"), "w")
    qlog.write(" ".join(cmd) + "\n")
    qlog.flush()
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=qlog, stderr=qlog,
                         preexec_fn=lab._die_with_parent)
    lab._children.append(p)
    failures = []
    qmp = None
    try:
        deadline = time.time() + 240
        qmp = lab.QMP(sock, deadline, p)
        text = ""
        while lab.MARKER not in text:
            if p.poll() is not None:
                raise Failure("QEMU exited (%d); see %s" % (p.returncode, console))
            if time.time() > deadline:
                raise Failure("no %s; see %s" % (lab.MARKER, console))
            time.sleep(0.2)
            try:
                with open(console, errors="replace") as f:
                    text = f.read()
            except FileNotFoundError:
                pass
        check("ISH-FWCFG ok" in text, "qemu_fw_cfg loaded, etc/vmcoreinfo present", failures)
        dmesg = provoke_fault(gdbsock, qmp, p, console, deadline, failures)
        time.sleep(1)
        qmp.cmd("stop")
        dmar = lab.console_dmar(text)
        bases = lab.dmar_drhd_bases(dmar) if dmar else []
        if not bases:
            bases = [0xfed90000]
        regs = {}
        for b in bases:
            regs[b] = lab.parse_xp(qmp.hmp("xp /%dwx 0x%x" % (lab.VTD_REG_SIZE // 4, b)))

        # 1. through the gdbstub: VMCOREINFO by RAM scan
        target = "gdb:unix:" + gdbsock
        pg, secs = iommush(args.iommush, target, ["kernel"], ["-O", "gdbstub.leave=stopped"])
        if pg.returncode:
            raise Failure("kernel through the gdbstub: exit %d: %s"
                          % (pg.returncode, pg.stderr.strip()))
        kg = json.loads(pg.stdout)
        log("gdbstub: %s, %s, %d symbols, BTF %s, %d unit(s), %.2f s"
            % (kg["source"], kg["osrelease"], kg["symbols"], kg["btf"], len(kg["units"] or []),
               secs))
        check(kg["source"].startswith("RAM scan at "), "gdbstub: VMCOREINFO by RAM scan (%s)"
              % kg["source"], failures)
        check(kg["osrelease"].startswith("6.1."), "OSRELEASE %s is the lab's 6.1" %
              kg["osrelease"], failures)
        check(kg["symbols"] > 10000, "%d kallsyms symbols" % kg["symbols"], failures)
        check(kg["btf"] and kg["btf"]["types"] > 10000, "BTF %s" % kg["btf"], failures)
        units = kg["units"] or []
        check(len(units) == len(bases), "%d unit(s) on dmar_drhd_units, %d DRHD(s)"
              % (len(units), len(bases)), failures)
        if args.kaslr:
            check(kg["kerneloffset"] != 0, "KASLR: KERNELOFFSET %#x" % kg["kerneloffset"],
                  failures)
            check(kg["page_offset_base"] != 0xffff888000000000,
                  "KASLR: page_offset_base %#x moved" % kg["page_offset_base"], failures)
        else:
            check(kg["kerneloffset"] == 0, "PVH boot: no KASLR", failures)
        table = drhds(dmar) if dmar else {}
        # what the scan costs: the same command with kernel.scan naming only the
        # page found, and a scan of the RAM below it (what the scan passed
        # over first), which must find nothing
        page = int(kg["source"].split()[-1], 16)
        opts = ["-O", "gdbstub.leave=stopped"]
        ps, t_full = iommush(args.iommush, target, ["kernel sym dmar_drhd_units"], opts)
        check(ps.returncode == 0, "kernel sym dmar_drhd_units", failures)
        _, t_exact = iommush(args.iommush, target, ["kernel sym dmar_drhd_units"],
                             opts + ["-O", "kernel.scan=%#x-%#x" % (page, page + 0xfff)])
        pa, t_vain = iommush(args.iommush, target, ["kernel sym dmar_drhd_units"],
                             opts + ["-O", "kernel.scan=0-%#x" % (page - 1)])
        check(pa.returncode == 1 and "no VMCOREINFO in" in pa.stderr,
              "a scan of the RAM below it finds nothing: %s" % pa.stderr.strip(), failures)
        pages = page // 4096
        # what a run costs without the scan: one page probed, nothing found
        _, t_one = iommush(args.iommush, target, ["kernel sym dmar_drhd_units"],
                           opts + ["-O", "kernel.scan=0-0xfff"])
        per = max(0.0, t_vain - t_one) / max(1, pages - 1)
        log("scan cost on a 256 MiB guest through the gdbstub: kernel sym %.2f s with the "
            "scan, %.2f s without; %d pages probed in vain in %.2f s, %.2f s of it the "
            "probes (%.1f us a probe; all 65536 pages would take %.2f s)"
            % (t_full, t_exact, pages, t_vain, t_vain - t_one, 1e6 * per, 65536 * per))

        for u in units:
            w = regs.get(u["reg_phys"])
            check(w is not None, "%s reg_phys %#x is a DRHD" % (u["name"], u["reg_phys"]),
                  failures)
            if w is None:
                continue
            if u["reg_phys"] in table:
                flags, seg = table[u["reg_phys"]]
                check(u["include_all"] == bool(flags & 1) and u["segment"] == seg,
                      "%s include_all %s segment %d = DRHD flags %#x segment %d"
                      % (u["name"], u["include_all"], u["segment"], flags, seg), failures)
            cap, ecap = regs_of(w, 0x08), regs_of(w, 0x10)
            rtaddr, iqa, iqt, irta = regs_of(w, 0x20), regs_of(w, 0x90), regs_of(w, 0x88), \
                regs_of(w, 0xb8)
            gsts = regs_of(w, 0x1c, 32)
            check(u["cap"] == cap, "%s cap %#x = CAP %#x" % (u["name"], u["cap"], cap), failures)
            check(u["ecap"] == ecap, "%s ecap %#x = ECAP %#x" % (u["name"], u["ecap"], ecap),
                  failures)
            scalable = args.mode == "scalable"
            want = u["root_entry_pa"] | (1 << 10 if scalable else 0)
            check(want == rtaddr, "%s pa(root_entry) %#x | SM = RTADDR %#x"
                  % (u["name"], want, rtaddr), failures)
            check(gsts & (1 << 31), "%s translation enabled (GSTS %#x)" % (u["name"], gsts),
                  failures)
            qi = u["qi"]
            check(qi is not None, "%s has a queue" % u["name"], failures)
            if qi:
                check(qi["desc_pa"] == iqa & ~0xfff, "%s pa(qi->desc) %#x = IQA base %#x"
                      % (u["name"], qi["desc_pa"], iqa & ~0xfff), failures)
                # 256-bit descriptors in scalable mode (QEMU 7.2 drops IQA.DW on read)
                dsize = 32 if scalable else 16
                check(qi["free_head"] == iqt // dsize,
                      "%s qi free_head %d = IQT %#x / %d" % (u["name"], qi["free_head"], iqt,
                                                           dsize), failures)
            ir = u["ir_table"]
            check(ir is not None, "%s has an interrupt remapping table" % u["name"], failures)
            if ir:
                check(ir["base_pa"] == irta & ~0xfff, "%s pa(ir_table->base) %#x = IRTA base %#x"
                      % (u["name"], ir["base_pa"], irta & ~0xfff), failures)

        # 2. inside the guest, live through /proc/kcore: VMCOREINFO from kcore's note.
        # The guest ran on since, so the queue's software state may differ.
        m = re.search(r"%s\s*\n(.*?)\n%s rc=(\d+)" % (KV_BEGIN, KV_END),
                      text.replace("\r\n", "\n"), re.S)
        if not m:
            failures.append("the guest printed no kernel answer; see %s" % console)
        elif m.group(2) != "0":
            failures.append("kernel inside the guest: exit %s: %s" % (m.group(2), m.group(1)))
        else:
            kl = json.loads(m.group(1))
            check(kl["source"] == "/proc/kcore note", "in-guest: VMCOREINFO from the "
                  "/proc/kcore note (%s)" % kl["source"], failures)

            def steady(k):
                d = dict(k, source=None)
                d["units"] = [dict(u, qi=u["qi"] and dict(u["qi"], free_head=None,
                                                          free_tail=None, free_cnt=None))
                              for u in k["units"] or []]
                return d
            check(steady(kl) == steady(kg), "in-guest kernel --json = the gdbstub's (but the "
                  "queue's free_head/free_tail/free_cnt)", failures)
            if steady(kl) != steady(kg) and VERBOSE:
                log("in-guest: %s\ngdbstub:  %s" % (json.dumps(steady(kl)),
                                                   json.dumps(steady(kg))))

        # 3. the ELF dump: VMCOREINFO from its PT_NOTE, the same answer
        elf = os.path.join(out, "memory.elf")
        qmp.cmd("dump-guest-memory", timeout=300, paging=False, protocol="file:" + elf)
        pd, dsecs = iommush(args.iommush, elf, ["kernel"])
        if pd.returncode:
            failures.append("kernel on the ELF dump: exit %d: %s"
                            % (pd.returncode, pd.stderr.strip()))
        else:
            kd = json.loads(pd.stdout)
            log("dump: %s, %.2f s" % (kd["source"], dsecs))
            check(kd["source"] == "ELF note", "dump: VMCOREINFO from the ELF note (%s)"
                  % kd["source"], failures)
            a = dict(kg, source=None)
            b = dict(kd, source=None)
            check(a == b, "dump's kernel --json = the gdbstub's at the same stop", failures)
            if a != b and VERBOSE:
                log("gdbstub: %s\ndump:    %s" % (json.dumps(a), json.dumps(b)))
            compare_kernel_copies(args, "gdb:unix:" + gdbsock, elf, failures)
            check_log(args, "gdb:unix:" + gdbsock, elf, dmesg, failures)
            check_lua(args, elf, failures)
            check_kernel_devices(args, "gdb:unix:" + gdbsock, elf, failures)
        if args.dumps and os.path.exists(elf):
            all_dump_formats(args, qmp, out, elf, kg, regs, failures)
        # without the note a dump is scanned like RAM too
        lab.quit_qemu(qmp, p)
    finally:
        if qmp:
            qmp.close()
        lab._kill_children()
        qlog.close()
        for n in ("qmp.sock", "gdb.sock", "disk.img", "nvme.img", "memory.elf",
                  os.path.basename(kernel)):
            if n == "memory.elf" and args.keep:
                continue
            try:
                os.unlink(os.path.join(out, n))
            except FileNotFoundError:
                pass
    if failures:
        raise Failure("%d check(s) failed" % len(failures))
    log("%s: all checks passed" % args.mode)


def provoke_fault(gdbsock, qmp, proc, console, deadline, failures):
    """A real DMA fault: edu (no driver, so the kernel's domain for it maps
    nothing) writes to FAULT_IOVA; the guest's kernel logs the unit's fault,
    and /init prints the guest's dmesg of it. Returns those DMAR lines."""
    rsp = Rsp(gdbsock)
    try:
        bdf = find_edu(rsp)
        if bdf is None:
            failures.append("edu not found through ECAM")
            return []
        cfg = ECAM + (bdf << 12)
        bar = rsp.r32(cfg + 0x10) & ~0xf
        rsp.write(cfg + 4, bytes([rsp.read(cfg + 4, 1)[0] | 6]))  # memory, bus master
        rsp.w64(bar + 0x80, EDU_BUF)
        rsp.w64(bar + 0x88, FAULT_IOVA)
        rsp.w64(bar + 0x90, 64)
        rsp.w32(bar + 0x98, 1 | 2)      # start, device to RAM: a DMA write
        for _ in range(20):
            rsp.run_for(0.25)
            if not rsp.r32(bar + 0x98) & 1:
                break
    finally:
        rsp.close()
    qmp.cmd("cont")
    text = ""
    while DMESG_END not in text:
        if proc.poll() is not None or time.time() > deadline:
            failures.append("the guest printed no dmesg of the fault; see %s" % console)
            return []
        time.sleep(0.5)
        with open(console, errors="replace") as f:
            text = f.read()
    m = re.search(r"%s\s*\n(.*?)%s" % (DMESG_BEGIN, DMESG_END), text.replace("\r\n", "\n"), re.S)
    lines = [ln for ln in m.group(1).splitlines() if ln.strip()] if m else []
    log("guest's dmesg: %s" % " | ".join(lines))
    check(any("fault addr %#x" % FAULT_IOVA in ln for ln in lines),
          "the guest's kernel logged edu's fault at %#x" % FAULT_IOVA, failures)
    return lines


# QEMU 7.2 records PASID 0 (PP=1) for scalable-mode requests without one (tests/edu)
FAULT_RE = re.compile(r"DMAR: \[DMA (Read|Write) (?:NO_PASID|PASID 0x[0-9a-f]+)\] Request device "
                      r"\[([0-9a-f]{2}:[0-9a-f]{2}\.[0-7])\] fault addr (0x[0-9a-f]+) "
                      r"\[fault reason (0x[0-9a-f]+)\] (.*)$")


def check_log(args, gdb, elf, dmesg, failures):
    """log and faults (the kernel log's) against the guest's own dmesg, on the
    ELF dump (note) and through the gdbstub (RAM scan, --log)."""
    for target, extra, how in ((elf, [], "ELF dump"),
                               (gdb, ["-O", "gdbstub.leave=stopped"], "gdbstub")):
        argv = [args.iommush, target] + extra + ["-c", "log DMAR"]
        p = subprocess.run(argv, capture_output=True, text=True, timeout=300)
        got = p.stdout.splitlines()
        check(p.returncode == 0 and dmesg and got[:len(dmesg)] == dmesg,
              "%s: log DMAR = the guest's dmesg | grep DMAR (%d lines)" % (how, len(dmesg)),
              failures)
        if got[:len(dmesg)] != dmesg:
            log("log DMAR: %s\ndmesg:    %s" % (got, dmesg))
        pd, _ = iommush(args.iommush, target, ["log"], extra)
        recs = json.loads(pd.stdout) if pd.returncode == 0 else []
        texts = set(r["text"] for r in recs)
        check(recs and all(ish_iommu(r["text"]) for r in recs) and
              all(ln.split("] ", 1)[1] in texts for ln in dmesg if "] DMAR" in ln) and
              all(r["level"] is not None for r in recs),
              "%s: log --json: %d IOMMU records, each with its level" % (how, len(recs)),
              failures)
        want = [FAULT_RE.search(ln) for ln in dmesg]
        want = [m for m in want if m]
        fopts = [] if target == elf else ["--log"]
        pf, _ = iommush(args.iommush, target, ["faults --walk" if fopts else "faults"] +
                        ([] if fopts else ["faults --walk"]), extra)
        objs = []
        for chunk in pf.stdout.splitlines():
            if chunk.strip():
                objs.append(json.loads(chunk))
        check(pf.returncode == 0, "%s: faults exit 0 (%s)" % (how, pf.stderr.strip()), failures)
        for arr in objs:
            kl = [o for o in arr if o.get("source") == "kernel log"]
            check(len(kl) == 1, "%s: faults lists the kernel log's" % how, failures)
            if not kl:
                continue
            got = [(r["type"], r["bdf"], r["addr"], r["reason"], r["kernel_text"])
                   for r in kl[0]["records"]]
            exp = [(m.group(1).lower(), m.group(2), int(m.group(3), 16), int(m.group(4), 16),
                    m.group(5)) for m in want]
            check(got == exp and exp, "%s: faults' kernel-log records = the guest's dmesg: %s"
                  % (how, got), failures)
            for r in kl[0]["records"]:
                if "walk" in r:
                    w = r["walk"]
                    check(w["faulted"] and w["step"] is not None,
                          "%s: faults --walk: %s %#x faults at %s (reason %#x)"
                          % (how, r["bdf"], r["addr"], w.get("step"), w.get("reason", -1)),
                          failures)


def strip_nulls(x):
    """The shell's JSON with its nulls dropped and empty objects as lists: what
    iommu.json() of the Lua binding's table gives (nil is absence, {} is [])."""
    if isinstance(x, dict):
        d = {k: strip_nulls(v) for k, v in x.items() if v is not None}
        return d if d else []
    if isinstance(x, list):
        return [strip_nulls(v) for v in x]
    return x


def check_lua(args, elf, failures):
    """t:kernel(), t:kernel_devices(), t:log() = --json -c kernel / kernel devices / log."""
    for cmd, lua in (("kernel", "t:kernel()"), ("kernel devices", "t:kernel_devices()"),
                     ("log", "t:log()"), ("log --all", "t:log{all = true}"),
                     ("log fault", 't:log("fault")')):
        pj, _ = iommush(args.iommush, elf, [cmd])
        pl = subprocess.run([args.iommush, elf, "-e", "local t = iommu.target(); "
                             "print(iommu.json(%s, {unsigned = true}))" % lua],
                            capture_output=True, text=True, timeout=120)
        try:
            a, b = strip_nulls(json.loads(pj.stdout)), strip_nulls(json.loads(pl.stdout))
        except ValueError:
            a, b = None, pl.stderr
        check(a is not None and a == b and a != [], "Lua %s = --json -c %s" % (lua, cmd),
              failures)


def check_kernel_devices(args, gdb, elf, failures):
    """kernel devices: the kernel's view agrees with the tables at the stop
    (gdbstub and ELF dump alike); then one DID changed on purpose in the
    stopped guest's tables (--write --force) is reported by kernel devices
    and script audit, and put back."""
    extra = ["-O", "gdbstub.leave=stopped"]
    pg, _ = iommush(args.iommush, gdb, ["kernel devices"], extra)
    pd, _ = iommush(args.iommush, elf, ["kernel devices"])
    if pg.returncode or pd.returncode:
        failures.append("kernel devices: exit %d/%d: %s %s" % (pg.returncode, pd.returncode,
                                                              pg.stderr, pd.stderr))
        return
    vg, vd = json.loads(pg.stdout), json.loads(pd.stdout)
    check(vg == vd, "kernel devices: the gdbstub's = the ELF dump's (%d devices)" % len(vg),
          failures)
    check(vg and all(v["kernel"] and v["hardware"] and not v["disagreements"] for v in vg),
          "kernel devices: every device in both views, no disagreement: %s"
          % [(v["bdf"], v["disagreements"]) for v in vg if v["disagreements"]], failures)
    pdev, _ = iommush(args.iommush, gdb, ["devices"], extra)
    hw = sorted(d["bdf"] for d in json.loads(pdev.stdout))
    check(sorted(v["bdf"] for v in vg) == hw, "kernel devices: the BDFs `devices` lists (%d)"
          % len(hw), failures)
    edu = [v for v in vg if v["bdf"] == "00:04.0"]
    if not edu:
        failures.append("kernel devices: no 00:04.0 (edu)")
        return
    v = edu[0]
    new = v["kernel"]["did"] + 40
    if v["hardware"]["scalable"]:
        # the RID_PASID (0) entry: directory entry 0, PASID table entry 0, DID in qword 1
        lua = ("local t = iommu.target(); local tbl = t:read64(%d) & ~0xfff; "
               "local a = tbl + 8; local old = t:read64(a); "
               "assert(t:write64(a, (old & ~0xffff) | %d)); print(a, old)"
               % (v["hardware"]["pasid_dir"], new))
    else:
        pc, _ = iommush(args.iommush, gdb, ["context 00:04.0"], extra)
        addr = json.loads(pc.stdout)["context"]["address"] + 8
        lua = ("local t = iommu.target(); local old = t:read64(%d); "
               "assert(t:write64(%d, (old & ~0xffff00) | (%d << 8))); print(%d, old)"
               % (addr, addr, new, addr))
    pw = subprocess.run([args.iommush, gdb, "--write", "--force", "-O", "gdbstub.leave=stopped",
                         "-e", lua], capture_output=True, text=True, timeout=120)
    check(pw.returncode == 0, "DID of 00:04.0 changed to %d in the stopped guest's tables (%s)"
          % (new, pw.stderr.strip()), failures)
    if pw.returncode:
        return
    addr, old = (int(x) for x in pw.stdout.split())
    pg, _ = iommush(args.iommush, gdb, ["kernel devices"], extra)
    diffs = [(x["bdf"], d["kind"]) for x in json.loads(pg.stdout) for d in x["disagreements"]]
    check(diffs == [("00:04.0", "did")], "kernel devices reports the DID disagreement: %s"
          % diffs, failures)
    pa = subprocess.run([args.iommush, gdb, "-O", "gdbstub.leave=stopped", "-c",
                         "script audit --kernel"], capture_output=True, text=True, timeout=300)
    lines = [ln for ln in pa.stdout.splitlines() if "kernel-view" in ln]
    check(pa.returncode == 1 and len(lines) == 1 and "00:04.0: did: the kernel's domain id is %d"
          % v["kernel"]["did"] in lines[0] and (" %d" % new) in lines[0],
          "script audit --kernel reports it: %s" % lines, failures)
    subprocess.run([args.iommush, gdb, "--write", "--force", "-O", "gdbstub.leave=stopped",
                    "-e", "assert(iommu.target():write64(%d, %d))" % (addr, old)],
                   capture_output=True, text=True, timeout=120)
    pg, _ = iommush(args.iommush, gdb, ["kernel devices"], extra)
    check(not any(x["disagreements"] for x in json.loads(pg.stdout)),
          "the DID put back: the views agree again", failures)


def ish_iommu(text):
    return any(s in text for s in ("DMAR:", "DMAR-IR:", "AMD-Vi:", "iommu:", "arm-smmu",
                                   "intel_iommu", "IOMMU", "iommu", "PCI-DMA:"))


def answers(args, target, extra=()):
    """units, devices, every device's mappings, irte all and iq, as JSON."""
    def one(cmd):
        p, _ = iommush(args.iommush, target, [cmd], extra)
        if p.returncode not in (0, 1) or not p.stdout.strip():
            raise Failure("%s on %s: exit %d: %s" % (cmd, target, p.returncode,
                                                     p.stderr.strip()))
        return json.loads(p.stdout), p.returncode, p.stderr.strip()
    res = {}
    for cmd in ("units", "devices", "irte all", "iq", "regs"):
        res[cmd] = one(cmd)
    for d in res["devices"][0]:
        cmd = "mappings %s" % d["bdf"]
        res[cmd] = one(cmd)
    return res


# What the kernel's copies cannot say (VER, fault and queue error registers)
# or say as the kernel wrote them (IQA's DW bit, which QEMU 7.2 reads back as 0).
UNIT_KEYS = ("name", "index", "segment", "base", "include_pci_all", "translation_enabled",
             "mode")
IQ_KEYS = ("unit", "base", "qs", "width", "slots", "tail", "iqt", "enabled")


def compare_kernel_copies(args, gdb, elf, failures):
    """The ELF dump with no dump.regs: units from dmar_drhd_units, registers from
    the kernel's copies, against the gdbstub's answers at the same stop."""
    hw = answers(args, gdb, ["-O", "gdbstub.leave=stopped"])
    kc = answers(args, elf)
    units = kc["units"][0]
    # units: the DMAR table QEMU's firmware left in RAM, else dmar_drhd_units
    check(len(units) > 0 and all(u.get("registers") == "kernel" for u in units),
          "dump without dump.regs: units' registers are the kernel's copies (units from %s)"
          % (units[0].get("from", "the DMAR table") if units else "-"), failures)
    check([{k: u.get(k) for k in UNIT_KEYS} for u in units] ==
          [{k: u.get(k) for k in UNIT_KEYS} for u in hw["units"][0]],
          "dump without dump.regs: units = the gdbstub's (but VER)", failures)
    srcs = {r["name"]: r.get("source") for u in kc["regs"][0] for r in u["registers"]
            if "value" in r}
    check(srcs and all(v == "kernel" for v in srcs.values()),
          "dump's regs are all marked source=kernel (%s)" % ",".join(sorted(srcs)), failures)
    for r in kc["regs"][0][0]["registers"]:
        if "value" not in r:
            continue
        h = [x for x in hw["regs"][0][0]["registers"] if x["name"] == r["name"]]
        if h and h[0].get("value") != r["value"]:
            log("register %s: kernel's copy %#x, hardware %#x"
                % (r["name"], r["value"], h[0].get("value", -1)))
    ndev = 0
    for cmd in sorted(kc):
        if cmd in ("units", "iq", "regs"):
            continue
        a, b = kc[cmd][0], hw.get(cmd, (None,))[0]
        if cmd == "devices":
            # a dump has no config space (ECAM is MMIO): no vendor/device names
            strip = ("vendor_id", "device_id", "name")
            a = [{k: v for k, v in d.items() if k not in strip} for d in a]
            b = [{k: v for k, v in d.items() if k not in strip} for d in b]
        same = a == b
        if cmd.startswith("mappings"):
            ndev += 1
            if VERBOSE:
                log("%s: %d range(s)" % (cmd, len(a) if isinstance(a, list) else -1))
        check(same, "dump without dump.regs: %s = the gdbstub's" % cmd, failures)
        if not same and VERBOSE:
            log("gdbstub: %s\ndump:    %s" % (json.dumps(b)[:2000], json.dumps(a)[:2000]))
    log("dump without dump.regs: %d device(s)' mappings compared" % ndev)
    iqk, iqh = kc["iq"][0], hw["iq"][0]
    check([{k: q.get(k) for k in IQ_KEYS} for q in iqk] ==
          [{k: q.get(k) for k in IQ_KEYS} for q in iqh],
          "dump without dump.regs: iq base/size/width/tail = the gdbstub's", failures)
    check([q.get("descriptors") for q in iqk] == [q.get("descriptors") for q in iqh],
          "dump without dump.regs: iq descriptors = the gdbstub's", failures)
    for a, b in zip(iqk, iqh):
        diff = {k: (a.get(k), b.get(k)) for k in set(a) | set(b)
                if k != "descriptors" and a.get(k) != b.get(k)}
        log("iq %s: kernel's copies vs hardware differ in %s" % (a.get("unit"), diff or "nothing"))


def main():
    global VERBOSE
    ap = argparse.ArgumentParser()
    ap.add_argument("iommush")
    ap.add_argument("outdir")
    ap.add_argument("--mode", choices=["legacy", "scalable"], default="legacy")
    ap.add_argument("--keep", action="store_true", help="keep memory.elf")
    ap.add_argument("--kaslr", action="store_true", help="boot the bzImage (KASLR)")
    ap.add_argument("--dumps", action="store_true",
                    help="every dump format too (QEMU -z/-l/-s, makedumpfile -c/-l/-z/-p/-E/-F)")
    ap.add_argument("-v", action="store_true")
    args = ap.parse_args()
    VERBOSE = args.v
    args.iommush = os.path.abspath(args.iommush)
    try:
        run(args)
    except lab.Skip as e:
        log("skip: %s" % e)
        return lab.SKIP
    except Failure as e:
        log("FAIL: %s" % e)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
