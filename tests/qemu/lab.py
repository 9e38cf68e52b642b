#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""iommush QEMU guest lab.

A Debian guest kernel boots under QEMU q35 with an emulated VT-d unit
(-device intel-iommu), programs real root/context/PASID/page tables for
e1000e, virtio-net, virtio-blk and nvme, and is then stopped so that its
memory, its VT-d register block and QEMU's own translation trace can be
saved.  The golden test (test_golden.py) compares iommush against that trace.

  lab.py fetch                          kernel + modules + initramfs -> cache
  lab.py capture --mode M --out DIR     boot, wait, stop, save DIR/*
  lab.py fixture --in DIR --out DIR2    small sparse copy of a capture (demo)

Exit status: 0 ok, 1 failure, 77 QEMU or the guest kernel cannot be had.
Standard library only.
"""

import argparse
import atexit
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tarfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SKIP = 77

# Modules the guest needs; their dependencies are found from each module's
# own .modinfo "depends=" (the Debian package has no modules.dep: depmod
# writes it at install time, and we never run install hooks).
WANTED_MODULES = ["virtio_pci", "virtio_net", "virtio_blk", "e1000e",
          "crct10dif_generic", "crc64_rocksoft_generic", "nvme"]

MARKER = "ISH-LAB-READY"

# Bumped whenever fetch's output changes, so an old cache is redone.
CACHE_VERSION = 3

# q35's VT-d register block is 0x230 bytes (DESIGN.md "Hard facts").
VTD_REG_SIZE = 0x230


def log(msg):
    print("lab: " + msg, file=sys.stderr, flush=True)


def cache_dir():
    d = os.environ.get("IOMMUSH_LAB_CACHE") or os.path.join(HERE, "cache")
    os.makedirs(d, exist_ok=True)
    return os.path.abspath(d)


class Skip(Exception):
    pass


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


# ---------------------------------------------------------------- fetch

def kernel_package():
    """Name of the current linux-image-6.1.0-NN-amd64 package."""
    def depends():
        try:
            out = subprocess.run(["apt-cache", "depends", "linux-image-amd64"],
                         capture_output=True, text=True).stdout
        except OSError:
            return None
        m = re.search(r"Depends:\s*(linux-image-[0-9][^\s]*-amd64)", out)
        return m.group(1) if m else None

    name = depends()
    if name is None and os.geteuid() == 0:
        log("apt lists are empty; running apt-get update once")
        subprocess.run(["apt-get", "update", "-qq"])
        name = depends()
    return name


def find_deb(cache):
    debs = sorted(f for f in os.listdir(cache)
              if re.match(r"linux-image-[0-9].*-amd64_.*\.deb$", f))
    return os.path.join(cache, debs[-1]) if debs else None


def modinfo_depends(path):
    """The depends= list from an ELF module's .modinfo section."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"\x7fELF" or data[4] != 2:
        return []
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3a)
    secs = []
    for i in range(shnum):
        s = struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize)
        secs.append(s)
    stroff = secs[shstrndx][4]
    for s in secs:
        end = data.index(b"\0", stroff + s[0])
        if data[stroff + s[0]:end] == b".modinfo":
            blob = data[s[4]:s[4] + s[5]]
            for kv in blob.split(b"\0"):
                if kv.startswith(b"depends="):
                    v = kv[8:].decode()
                    return [x for x in v.split(",") if x]
    return []


def pvh_vmlinux(bzimage):
    """The ELF kernel inside an xz-compressed bzImage, when it has a PVH
    entry note (Xen ELF note 18, PHYS32_ENTRY) so QEMU can boot it directly:
    that skips the in-guest decompression, slow under TCG.  None otherwise."""
    import lzma
    with open(bzimage, "rb") as f:
        data = f.read()
    i = data.find(b"\xfd7zXZ\x00")
    if i < 0:
        return None
    try:
        elf = lzma.LZMADecompressor().decompress(data[i:], max_length=256 << 20)
    except lzma.LZMAError:
        return None
    if elf[:4] != b"\x7fELF" or not any(struct.pack("<III", 4, n, 18) + b"Xen\0" in elf
                         for n in (4, 8)):
        return None
    out = os.path.join(os.path.dirname(bzimage), "vmlinux")
    with open(out, "wb") as f:
        f.write(elf)
    return out


def build_initramfs(cache, kver, moddir, order):
    root = os.path.join(cache, "initramfs-root")
    shutil.rmtree(root, ignore_errors=True)
    for d in ("bin", "sbin", "proc", "sys", "dev", "tmp", "lib/modules", "etc"):
        os.makedirs(os.path.join(root, d), exist_ok=True)
    bb = shutil.which("busybox")
    if bb is None:
        raise Skip("busybox (busybox-static) is not installed")
    out = subprocess.run(["file", "-L", bb], capture_output=True, text=True).stdout \
        if shutil.which("file") else "statically linked"
    if "dynamically" in out:
        raise Skip("busybox is not the static build (install busybox-static)")
    shutil.copy(bb, os.path.join(root, "bin", "busybox"))
    with open(os.path.join(root, "modules.order"), "w") as f:
        for m in order:
            src = moddir[m]
            shutil.copy(src, os.path.join(root, "lib/modules", m + ".ko"))
            f.write(m + "\n")
    shutil.copy(os.path.join(HERE, "init"), os.path.join(root, "init"))
    os.chmod(os.path.join(root, "init"), 0o755)
    if os.geteuid() == 0:
        # without root, /init reopens the console after mounting devtmpfs
        os.mknod(os.path.join(root, "dev", "console"), 0o600 | 0o020000,
             os.makedev(5, 1))
    img = os.path.join(cache, "initramfs.cpio.gz")
    tmp = img + ".tmp"
    files = subprocess.run("find . -print0 | LC_ALL=C sort -z", shell=True, cwd=root,
                   capture_output=True, check=True).stdout
    cpio = subprocess.run(["cpio", "--null", "-o", "-H", "newc", "--quiet"], cwd=root,
                  input=files, capture_output=True, check=True).stdout
    import gzip
    with gzip.open(tmp, "wb", compresslevel=6) as f:
        f.write(cpio)
    os.replace(tmp, img)
    return img


def derived_initrd(dest, hook, keep_modules=True, files=()):
    """The lab's initramfs tree (fetch first) with `hook` (shell text) run by
    /init just before it says ready, and `files` [(host path, guest path)]
    added; written as dest/initramfs.cpio.gz, which is returned. Used by the
    debugfs capture (tests/kernel) and the in-guest tests (tests/guest)."""
    src = os.path.join(cache_dir(), "initramfs-root")
    root = os.path.join(dest, "root")
    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(dest, exist_ok=True)
    # cp -a: the tree holds a /dev/console node, which copytree would read
    run(["cp", "-a", src, root])
    if not keep_modules:
        shutil.rmtree(os.path.join(root, "lib", "modules"), ignore_errors=True)
        os.makedirs(os.path.join(root, "lib", "modules"))
        open(os.path.join(root, "modules.order"), "w").close()
    with open(os.path.join(HERE, "init")) as f:
        init = f.read()
    marker = "echo %s\n" % MARKER
    if init.count(marker) != 1:
        raise RuntimeError("the lab's init no longer has one '%s' line" % marker.strip())
    with open(os.path.join(root, "init"), "w") as f:
        f.write(init.replace(marker, hook + marker))
    os.chmod(os.path.join(root, "init"), 0o755)
    for host, guest in files:
        dst = os.path.join(root, guest.lstrip("/"))
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copy(host, dst)
    files = subprocess.run("find . -print0 | LC_ALL=C sort -z", shell=True, cwd=root,
                   capture_output=True, check=True).stdout
    cpio = subprocess.run(["cpio", "--null", "-o", "-H", "newc", "--quiet"], cwd=root,
                  input=files, capture_output=True, check=True).stdout
    import gzip
    img = os.path.join(dest, "initramfs.cpio.gz")
    with gzip.open(img, "wb", compresslevel=6) as f:
        f.write(cpio)
    shutil.rmtree(root, ignore_errors=True)
    return img


def stamp_of(cache):
    try:
        with open(os.path.join(cache, "stamp.json")) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def fetch(args):
    # parallel test runs share the cache: one fetch at a time
    import fcntl
    cache = cache_dir()
    with open(os.path.join(cache, ".lock"), "w") as lk:
        fcntl.flock(lk, fcntl.LOCK_EX)
        return fetch_locked(cache)


def fetch_locked(cache):
    # The init script's content, not its mtime: every checkout of the same
    # tree (worktrees, CI clones) shares one cache without rebuilding it
    # under another's running guests.
    with open(os.path.join(HERE, "init"), "rb") as f:
        init_hash = hashlib.sha256(f.read()).hexdigest()
    st = stamp_of(cache)
    if st and os.path.exists(st.get("kernel", "")) and \
       os.path.exists(st.get("initrd", "")) and st.get("init_sha256") == init_hash \
       and st.get("wanted") == WANTED_MODULES and st.get("version") == CACHE_VERSION:
        log("cached: %s" % st["kernel"])
        return 0
    t0 = time.time()
    deb = find_deb(cache)
    if deb is None:
        if shutil.which("apt-get") is None:
            raise Skip("no apt-get to download a guest kernel")
        for attempt in (1, 2):
            pkg = kernel_package()
            if pkg is None:
                raise Skip("apt-cache knows no linux-image-amd64")
            log("downloading " + pkg)
            r = subprocess.run(["apt-get", "download", "-q", pkg], cwd=cache)
            deb = find_deb(cache)
            if r.returncode == 0 and deb is not None:
                break
            # stale lists name a version the archive no longer has
            if attempt == 2 or os.geteuid() != 0:
                raise Skip("apt-get download %s failed" % pkg)
            log("retrying after apt-get update")
            subprocess.run(["apt-get", "update", "-qq"])
    log("extracting from " + os.path.basename(deb))
    ext = os.path.join(cache, "kernel")
    shutil.rmtree(ext, ignore_errors=True)
    os.makedirs(ext)
    p = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", deb], stdout=subprocess.PIPE)
    kernel = None
    mods = {}
    with tarfile.open(fileobj=p.stdout, mode="r|") as tar:
        for ti in tar:
            n = ti.name
            base = os.path.basename(n)
            if not ti.isfile():
                continue
            if re.match(r"\./boot/vmlinuz-", n):
                kernel = os.path.join(ext, base)
            elif n.endswith(".ko") and "/kernel/" in n:
                # every .ko is small; keep only the few we may need
                name = base[:-3].replace("-", "_")
                if not re.match(r"(virtio|failover|net_failover|e1000e|nvme"
                        r"|t10_pi|crc64|crct10dif|crc_t10dif)", name):
                    continue
                mods[name] = os.path.join(ext, base)
            else:
                continue
            f = tar.extractfile(ti)
            with open(os.path.join(ext, base), "wb") as out:
                shutil.copyfileobj(f, out)
    if p.wait() != 0 or kernel is None:
        raise Skip("could not extract a kernel from " + deb)
    kver = os.path.basename(kernel)[len("vmlinuz-"):]
    elf = pvh_vmlinux(kernel)
    if elf:
        log("booting the uncompressed %s (PVH entry)" % os.path.basename(elf))

    order = []
    seen = set()

    def visit(m, depth=0):
        if m in seen or depth > 32:
            return
        seen.add(m)
        if m not in mods:
            raise RuntimeError("module %s is not in the package" % m)
        for d in modinfo_depends(mods[m]):
            visit(d.replace("-", "_"), depth + 1)
        order.append(m)

    for m in WANTED_MODULES:
        visit(m)
    log("module order: " + " ".join(order))
    initrd = build_initramfs(cache, kver, mods, order)
    with open(os.path.join(cache, "stamp.json"), "w") as f:
        json.dump({"kernel": elf or kernel, "bzimage": kernel, "initrd": initrd, "kver": kver,
               "modules": order, "wanted": WANTED_MODULES, "version": CACHE_VERSION,
               "init_sha256": init_hash}, f)
    log("fetch done in %.1f s" % (time.time() - t0))
    return 0


# ---------------------------------------------------------------- QEMU

class QMP:
    def __init__(self, path, deadline, proc):
        self.sock = None
        while True:
            try:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect(path)
                self.sock = s
                break
            except OSError:
                s.close()
                if proc.poll() is not None:
                    raise RuntimeError("QEMU exited (%d) at start; see qemu.log"
                               % proc.returncode)
                if time.time() > deadline:
                    raise RuntimeError("QMP socket never appeared")
                time.sleep(0.1)
        self.sock.settimeout(60)
        self.buf = b""
        self._recv()  # greeting
        self.cmd("qmp_capabilities")

    def _recv(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise RuntimeError("QMP connection closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def cmd(self, execute, timeout=60, **arguments):
        msg = {"execute": execute}
        if arguments:
            msg["arguments"] = arguments
        self.sock.settimeout(timeout)
        self.sock.sendall(json.dumps(msg).encode() + b"\n")
        while True:
            r = self._recv()
            if "return" in r:
                return r["return"]
            if "error" in r:
                raise RuntimeError("QMP %s: %s" % (execute, r["error"].get("desc")))
            # asynchronous events (STOP, RESUME, DUMP_COMPLETED) are skipped

    def hmp(self, line):
        return self.cmd("human-monitor-command", **{"command-line": line})

    def close(self):
        if self.sock:
            self.sock.close()


_children = []


def _kill_children():
    for p in _children:
        if p.poll() is None:
            try:
                p.kill()
            except OSError:
                pass
            p.wait()


def _die_with_parent():
    """In the child: SIGKILL when lab.py dies, however it dies (a test
    runner's SIGKILL included), so no QEMU outlives its capture."""
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


atexit.register(_kill_children)


def _on_signal(signum, frame):
    _kill_children()
    sys.exit(128 + signum)


def qemu_binary():
    q = os.environ.get("QEMU") or shutil.which("qemu-system-x86_64")
    if not q or not os.access(q, os.X_OK):
        raise Skip("qemu-system-x86_64 is not installed")
    return q


def parse_xp(text):
    """`xp /Nwx ADDR` output -> {offset_from_first_addr: u32}."""
    words = {}
    base = None
    for line in text.splitlines():
        m = re.match(r"\s*([0-9a-fA-F]+):((?:\s+0x[0-9a-fA-F]+)+)\s*$", line)
        if not m:
            continue
        addr = int(m.group(1), 16)
        if base is None:
            base = addr
        for i, w in enumerate(m.group(2).split()):
            words[addr - base + 4 * i] = int(w, 16)
    return words


def dmar_drhd_bases(dmar):
    """Register base of every DRHD in an ACPI DMAR table (ACPI DMAR spec;
    VT-d spec 8.3: type 0, 16-byte header, base at offset 8)."""
    bases = []
    if len(dmar) < 48 or dmar[:4] != b"DMAR":
        return bases
    length = min(struct.unpack_from("<I", dmar, 4)[0], len(dmar))
    off = 48
    while off + 4 <= length:
        typ, ln = struct.unpack_from("<HH", dmar, off)
        if ln < 4 or off + ln > length:
            break
        if typ == 0 and ln >= 16:
            bases.append(struct.unpack_from("<Q", dmar, off + 8)[0])
        off += ln
    return bases


def console_dmar(text):
    m = re.search(r"ISH-DMAR-BEGIN\s*\n(.*?)ISH-DMAR-END", text, re.S)
    if not m:
        return None
    hexs = re.findall(r"\b[0-9a-f]{2}\b", m.group(1))
    return bytes(int(h, 16) for h in hexs)


def write_regs(path, words, fmt, base):
    """regs.txt in the assignment format of include/iommush/regsfile.h:
    a [dmar0 @ BASE] section, then every 4-byte word by raw offset (the
    least ambiguous form), or 8-byte values with an explicit :64 width."""
    with open(path, "w") as f:
        f.write("# VT-d register block read with QMP xp as 4-byte words\n")
        f.write("[dmar0 @ 0x%x]\n" % base)
        if fmt == "offsets32":
            for off in sorted(words):
                f.write("0x%03x = 0x%08x\n" % (off, words[off]))
        else:
            for off in range(0, VTD_REG_SIZE, 8):
                v = words.get(off, 0) | (words.get(off + 4, 0) << 32)
                f.write("0x%03x:64 = 0x%016x\n" % (off, v))


def make_disk(path, size, tag):
    """A raw image with recognisable content, so reads move real data."""
    with open(path, "wb") as f:
        blk = (tag.encode() * 512)[:4096]
        for i in range(size // 4096):
            f.write(blk[:-8] + struct.pack("<Q", i))


MODES = {
    # Linux 6.1 forces strict (per-unmap) invalidation under caching mode,
    # which keeps the trace's invalidations exact.  Without it Linux
    # batches unmaps into rare domain-wide flushes.
    "legacy": "intel-iommu,intremap=on,caching-mode=on",
    "scalable": "intel-iommu,intremap=on,caching-mode=on,x-scalable-mode=on",
    "legacy-lazy": "intel-iommu,intremap=on",
}
# Kernel command line per mode: strict (per-unmap) flushing except for lazy.
STRICT = {"legacy-lazy": "iommu.strict=0"}


def quit_qemu(qmp, proc):
    """Asks QEMU to quit and waits for it a little; the caller's finally
    (_kill_children) ends it otherwise."""
    try:
        qmp.cmd("quit", timeout=10)
    except (RuntimeError, OSError):
        pass
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        pass


def capture(args):
    q = qemu_binary()
    fetch(args)  # quick when cached; redone when init or the module list changed
    st = stamp_of(cache_dir())
    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    for n in ("memory.elf", "regs.txt", "trace.log", "qemu.log", "console.log",
          "dmar.bin", "qmp.sock", "info.json", "gdb.sock", "live.json", "live.snap"):
        try:
            os.unlink(os.path.join(out, n))
        except FileNotFoundError:
            pass
    disk = os.path.join(out, "disk.img")
    make_disk(disk, 1 << 20, "iommush-virtio-blk ")
    nvme = os.path.join(out, "nvme.img")
    make_disk(nvme, 1 << 20, "iommush-nvme ")
    sock = os.path.join(out, "qmp.sock")
    trace = os.path.join(out, "trace.log")
    console = os.path.join(out, "console.log")
    cmdline = ("console=ttyS0 intel_iommu=on %s loglevel=5 panic=-1 rdinit=/init"
           % STRICT.get(args.mode, "iommu.strict=1"))
    if args.append:
        cmdline += " " + args.append
    cmd = [q, "-machine", "q35,kernel-irqchip=split", "-cpu", "max",
           "-m", str(args.mem), "-smp", "1", "-vga", "none", "-display", "none",
           "-no-reboot", "-nodefaults",
           "-device", MODES[args.mode],
           "-kernel", args.kernel or st["kernel"], "-initrd", st["initrd"], "-append", cmdline,
           "-serial", "file:" + console,
           "-qmp", "unix:%s,server=on,wait=off" % sock,
           # restrict=on: user networking never leaves QEMU (only its
           # built-in DHCP server answers).
           "-netdev", "user,id=n0,restrict=on",
           "-device", "e1000e,netdev=n0",
           "-netdev", "user,id=n1,restrict=on",
           "-device", "virtio-net-pci,netdev=n1,iommu_platform=on,disable-legacy=on",
           "-drive", "file=%s,format=raw,if=none,id=d0,readonly=on" % disk,
           "-device", "virtio-blk-pci,drive=d0,iommu_platform=on,disable-legacy=on",
           "-drive", "file=%s,format=raw,if=none,id=d1" % nvme,
           "-device", "nvme,serial=ish0,drive=d1",
           "-trace", "enable=vtd_*",
           # cache hits carry nothing new and would fill the disk
           "-trace", "enable=-vtd_iotlb_page_hit",
           "-trace", "file=" + trace]
    # more devices (tests/guest puts one behind a PCIe root port)
    for d in getattr(args, "devices", None) or ():
        cmd += ["-device", d]
    gdbsock = os.path.join(out, "gdb.sock")
    if args.iommush:
        cmd += ["-gdb", "unix:%s,server=on,wait=off" % gdbsock]
    if args.kvm and os.access("/dev/kvm", os.W_OK):
        cmd[1:1] = ["-accel", "kvm"]
    qlog = open(os.path.join(out, "qemu.log"), "w")
    qlog.write(" ".join(cmd) + "\n")
    qlog.flush()
    t0 = time.time()
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    # QEMU stays in our process group, so a test runner's group kill reaches it
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=qlog, stderr=qlog,
                 preexec_fn=_die_with_parent)
    _children.append(p)
    qmp = None
    info = {"mode": args.mode, "device": MODES[args.mode], "kernel": st["kernel"],
        "cmdline": cmdline}
    try:
        deadline = t0 + args.timeout
        qmp = QMP(sock, deadline, p)
        text = ""
        while MARKER not in text:
            if p.poll() is not None:
                raise RuntimeError("QEMU exited (%d) before the guest was ready; "
                           "see %s" % (p.returncode, console))
            if time.time() > deadline:
                raise RuntimeError("no %s after %d s; see %s"
                           % (MARKER, args.timeout, console))
            time.sleep(0.2)
            try:
                with open(console, errors="replace") as f:
                    text = f.read()
            except FileNotFoundError:
                pass
        info["boot_s"] = round(time.time() - t0, 1)
        log("guest ready after %.1f s" % info["boot_s"])
        time.sleep(args.settle)
        qmp.cmd("stop")
        # From here on the register accesses are the lab's own (xp, the
        # gdbstub): the trace keeps only the guest's (tests/guest checks
        # their widths).
        for ev in ("vtd_reg_read", "vtd_reg_write"):
            qmp.cmd("trace-event-set-state", name=ev, enable=False)
        t1 = time.time()
        dmar = console_dmar(text)
        base = 0xfed90000
        if dmar:
            with open(os.path.join(out, "dmar.bin"), "wb") as f:
                f.write(dmar)
            bases = dmar_drhd_bases(dmar)
            if bases:
                base = bases[0]
            info["drhd_bases"] = bases
        else:
            log("guest printed no DMAR; assuming the q35 base 0x%x" % base)
        info["reg_base"] = base
        words = parse_xp(qmp.hmp("xp /%dwx 0x%x" % (VTD_REG_SIZE // 4, base)))
        if len(words) != VTD_REG_SIZE // 4 or words.get(0) in (None, 0, 0xffffffff):
            raise RuntimeError("register block at 0x%x did not read back" % base)
        write_regs(os.path.join(out, "regs.txt"), words, args.regs_format, base)
        qmp.cmd("dump-guest-memory", timeout=300, paging=False,
            protocol="file:" + os.path.join(out, "memory.elf"))
        info["save_s"] = round(time.time() - t1, 1)
        if args.iommush:
            info["live"] = live_capture(args.iommush, gdbsock, out)
        quit_qemu(qmp, p)
    finally:
        if qmp:
            qmp.close()
        _kill_children()
        qlog.close()
        for n in ("qmp.sock", "gdb.sock", "disk.img", "nvme.img"):
            try:
                os.unlink(os.path.join(out, n))
            except FileNotFoundError:
                pass
    info["total_s"] = round(time.time() - t0, 1)
    with open(os.path.join(out, "info.json"), "w") as f:
        json.dump(info, f, indent=1)
    log("capture %s done in %.1f s -> %s" % (args.mode, info["total_s"], out))
    return 0


def live_capture(iommush, gdbsock, out):
    """While the guest is stopped, ask iommush the same questions through
    QEMU's gdbstub: the devices, every device's mappings and IRTEs, and a
    snapshot taken live. The golden test compares these answers with the
    dump's, which it checks against QEMU's trace."""
    t0 = time.time()
    target = "gdb:unix:" + gdbsock
    base = [iommush, target, "-O", "gdbstub.leave=stopped", "--json"]
    p = subprocess.run(base + ["-c", "devices"], capture_output=True, text=True, timeout=120)
    if p.returncode:
        raise RuntimeError("iommush over the gdbstub failed: %s" % p.stderr.strip())
    bdfs = [d["bdf"] for d in json.loads(p.stdout)]
    cmds = ["devices", "pci"] + ["mappings %s" % b for b in bdfs] + ["irte all", "iq --all",
            "snapshot %s" % os.path.join(out, "live.snap"), "show stats"]
    argv = list(base)
    for c in cmds:
        argv += ["-c", c]
    p = subprocess.run(argv, capture_output=True, text=True, timeout=600)
    if p.returncode:
        raise RuntimeError("iommush over the gdbstub failed: %s" % p.stderr.strip())
    with open(os.path.join(out, "live.json"), "w") as f:
        json.dump({"commands": cmds, "stdout": p.stdout}, f)
    secs = round(time.time() - t0, 1)
    log("live answers through the gdbstub in %.1f s (%d devices)" % (secs, len(bdfs)))
    return {"seconds": secs, "devices": len(bdfs)}


def fixture(args):
    import vtdwalk
    return vtdwalk.write_fixture(args.inp, args.out)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("fetch", help="kernel, modules and initramfs into the cache")
    c = sub.add_parser("capture", help="boot a guest and save its VT-d state")
    c.add_argument("--mode", choices=sorted(MODES), default="legacy")
    c.add_argument("--out", required=True)
    c.add_argument("--timeout", type=int, default=180, help="boot deadline, s")
    c.add_argument("--settle", type=float, default=2.0,
               help="seconds between the ready marker and the stop")
    c.add_argument("--mem", type=int, default=256, help="guest MiB")
    c.add_argument("--append", default="", help="more kernel command line")
    c.add_argument("--regs-format", choices=["offsets32", "offsets64"],
               default="offsets32")
    c.add_argument("--kernel", help="boot this kernel instead of the cached one")
    c.add_argument("--kvm", action="store_true", help="use KVM when available")
    c.add_argument("--iommush", help="also query the stopped guest through QEMU's gdbstub "
                   "with this iommush binary (live.json, live.snap)")
    x = sub.add_parser("fixture", help="small sparse copy of a capture")
    x.add_argument("--in", dest="inp", required=True)
    x.add_argument("--out", required=True)
    args = ap.parse_args()
    sys.path.insert(0, HERE)
    try:
        return {"fetch": fetch, "capture": capture, "fixture": fixture}[args.cmd](args)
    except Skip as e:
        log("SKIP: %s" % e)
        return SKIP
    except (RuntimeError, OSError, subprocess.CalledProcessError) as e:
        log("FAIL: %s" % e)
        return 1


if __name__ == "__main__":
    sys.exit(main())
