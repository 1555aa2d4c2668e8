#!/usr/bin/env python3
"""Runs a command on a new pseudo-terminal (its controlling terminal), answers the first "(yes/no)?" question
with ANSWER, and relays everything the command wrote to the terminal. Exits with the command's exit code.
Usage: answer-on-terminal.py ANSWER COMMAND [ARGUMENT...]"""
import os
import pty
import select
import sys
import time

answer, command = sys.argv[1], sys.argv[2:]
pid, terminal = pty.fork()
if pid == 0:
    os.execvp(command[0], command)

seen = b""
answered = False
deadline = time.monotonic() + 60
while time.monotonic() < deadline:
    ready, _, _ = select.select([terminal], [], [], 1)
    if not ready:
        continue
    try:
        data = os.read(terminal, 4096)
    except OSError:  # the command exited and closed the terminal
        break
    if not data:
        break
    seen += data
    if not answered and b"(yes/no)?" in seen:
        os.write(terminal, answer.encode() + b"\n")
        answered = True
_, status = os.waitpid(pid, 0)
sys.stdout.write(seen.decode(errors="replace"))
sys.exit(os.waitstatus_to_exitcode(status))
