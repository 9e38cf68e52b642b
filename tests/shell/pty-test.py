#!/usr/bin/env python3
"""Drive the interactive shell in a pseudo-terminal, as a person would.

Usage: pty-test.py IOMMUSH

Types commands, presses Tab, the up arrow and Ctrl-C, and reads what the
terminal shows: completion, history recall, Ctrl-C at the prompt and during
a long walk (the shell must stay alive), and the pager. Which line editor was
built (readline, libedit, stdio) decides which of these apply.
"""
import os
import pty
import re
import select
import signal
import subprocess
import sys
import tempfile
import time
import fcntl
import struct
import termios

passed = failed = 0
# The start of an output line: readline may switch bracketed paste off first.
LINE = rb"\n(?:\x1b\[\?2004l)?\r?"


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAILED:", what)


class Term:
    def __init__(self, argv, env):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.execve(argv[0], argv, env)
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 160, 0, 0))
        self.buf = b""
        self.pos = 0

    def read(self, timeout):
        r, _, _ = select.select([self.fd], [], [], timeout)
        if not r:
            return False
        try:
            data = os.read(self.fd, 65536)
        except OSError:
            return False
        self.buf += data
        return bool(data)

    def expect(self, pattern, timeout=20):
        """Wait for pattern (a bytes regex) after the last match; True if seen."""
        rx = re.compile(pattern)
        end = time.time() + timeout
        while True:
            m = rx.search(self.buf, self.pos)
            if m:
                self.pos = m.end()
                return True
            left = end - time.time()
            if left <= 0 or not self.read(min(left, 0.5)) and left <= 0.5:
                if not rx.search(self.buf, self.pos):
                    tail = self.buf[-400:].decode(errors="replace")
                    print(f"  (waited for {pattern!r}; screen tail: {tail!r})")
                    return False

    def send(self, s):
        os.write(self.fd, s.encode() if isinstance(s, str) else s)

    def drain(self, t=0.3):
        while self.read(t):
            pass
        self.pos = len(self.buf)

    def wait(self, timeout=10):
        end = time.time() + timeout
        while time.time() < end:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                return os.waitstatus_to_exitcode(status)
            self.read(0.1)
        os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)
        return None


def main():
    iommush = os.path.abspath(sys.argv[1])
    src = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    editor = subprocess.run([iommush, "--version"], capture_output=True, text=True).stdout
    editor = re.search(r"\((\w+)\)", editor).group(1)
    with tempfile.TemporaryDirectory(prefix="iommush-pty-") as tmp:
        # A target big enough that listing it takes seconds on a terminal.
        subprocess.run([sys.executable, os.path.join(src, "tests/gen/mkimage.py"), tmp,
                        "--mappings", "300000"], check=True)
        pager = os.path.join(tmp, "pager")
        with open(pager, "w") as f:
            f.write("#!/bin/sh\nexec sed 's/^/PAGED: /'\n")
        os.chmod(pager, 0o755)
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "TERM": "xterm", "HOME": tmp,
               "IOMMUSH_HISTORY": os.path.join(tmp, "history"), "PAGER": pager,
               "NO_COLOR": "1", "LC_ALL": "C", "INPUTRC": "/dev/null",
               "IOMMUSH_PLUGIN_PATH": ""}
        t = Term([iommush, os.path.join(tmp, "image.raw"), "-O",
                  "dump.regs=" + os.path.join(tmp, "regs.txt")], env)
        check(t.expect(rb"iommush> "), "the prompt appears")

        # The pager: output goes through $PAGER.
        t.send("units\r")
        check(t.expect(rb"PAGED: dmar0"), "units output goes through the pager")
        check(t.expect(rb"iommush> "), "prompt after the pager")
        t.send("set pager off\r")
        check(t.expect(rb"iommush> "), "set pager off")

        if editor != "stdio":
            # Completion of a command name.
            t.send("uni\t")
            # libedit redraws the rest of the word after moving the cursor
            check(t.expect(rb"units ?|\x1b\[\d+Gts "), "Tab completes 'uni' to 'units'")
            t.send("\r")
            check(t.expect(rb"dmar0 +0000 +0xfed90000"), "the completed command runs")
            check(t.expect(rb"iommush> "), "prompt after units")
            # Completion of a device on the target.
            t.send("translate 00:0\t")
            check(t.expect(rb"00:01\.0|\x1b\[\d+G1\.0"), "Tab completes a BDF present on the target")
            t.send("\x15")  # Ctrl-U: kill the line
            t.drain()
            # History recall: up arrow brings back the last command.
            t.send("echo recalled\r")
            check(t.expect(LINE + rb"recalled"), "echo runs")
            t.send("\x1b[A")
            check(t.expect(rb"echo recalled"), "up arrow recalls the previous line")
            t.send("\r")
            check(t.expect(LINE + rb"recalled"), "the recalled line runs")
            t.drain()

        if editor == "readline":
            # Ctrl-C at the prompt discards the line.
            t.send("garbage-words")
            t.drain()
            t.send("\x03")
            check(t.expect(rb"iommush> "), "Ctrl-C at the prompt gives a fresh prompt")
            t.send("echo after-ctrl-c\r")
            check(t.expect(LINE + rb"after-ctrl-c"), "the discarded line is gone")
            check(b"unknown command 'garbage-words" not in t.buf, "the discarded line did not run")

        # Ctrl-C during a long walk stops it and keeps the shell.
        t.drain()
        t.send("mappings 00:01.0\r")
        check(t.expect(rb"0x0000000100[0-9a-f]{6}"), "mappings starts listing")
        t.send("\x03")
        check(t.expect(rb"interrupted"), "Ctrl-C interrupts the walk")
        check(t.expect(rb"iommush> "), "the prompt comes back")
        t.drain(0.5)
        t.send("units\r")
        check(t.expect(rb"dmar0"), "the shell still works after Ctrl-C")
        check(t.expect(rb"iommush> "), "prompt")
        t.send("quit\r")
        rc = t.wait()
        check(rc == 0, f"quit exits 0 (got {rc})")
        if editor != "stdio":
            with open(os.path.join(tmp, "history")) as f:
                hist = f.read().replace("\\040", " ")  # libedit's encoding of spaces
            check("units" in hist and "echo recalled" in hist, "history is saved")

        # A pager that quits early (q in less): the listing stops quietly, the shell lives.
        quitter = os.path.join(tmp, "pager-head")
        with open(quitter, "w") as f:
            f.write("#!/bin/sh\nhead -n 3 | sed 's/^/HEAD: /'\n")
        os.chmod(quitter, 0o755)
        t = Term([iommush, os.path.join(tmp, "image.raw"), "-O",
                  "dump.regs=" + os.path.join(tmp, "regs.txt")], dict(env, PAGER=quitter))
        check(t.expect(rb"iommush> "), "the prompt appears (quitting pager)")
        t.send("mappings 00:01.0\r")
        check(t.expect(rb"HEAD: 0x0000000100002000-"), "the pager shows the first lines")
        check(t.expect(rb"iommush> "), "the prompt comes back when the pager quits")
        check(b"error" not in t.buf and b"Broken pipe" not in t.buf,
              "a pager that quits is no error")
        t.send("units\r")
        check(t.expect(rb"HEAD: dmar0"), "the shell still works after the pager quit")
        check(t.expect(rb"iommush> "), "prompt")
        t.send("quit\r")
        rc = t.wait()
        check(rc == 0, f"quit exits 0 after a pager quit early (got {rc})")
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
