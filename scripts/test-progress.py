#!/usr/bin/env python3
"""Shortens a test run's output to its progress, keeping every line in a log.

usage: test-progress.py [--heartbeat SECONDS] LOG < OUTPUT

Reads the output of `dotnet test --logger "console;verbosity=normal"` or of interop/run-tests.sh on stdin, appends
every line to LOG, and prints on stdout only:
  - a line when a test assembly starts ("Test run for .../X.dll") or a phase begins (a line "== PHASE");
  - each failed or skipped test, each build error and an aborted run, at once;
  - a running count every 100 tests, and every HEARTBEAT seconds (default 30) in which nothing else was printed,
    so that a long test (the adversarial sessions take minutes) never looks like a hang;
  - the totals of each assembly ("Total tests: ...") and each C test program.
It decides nothing: the caller reads the results (trx, summary line) and the exit codes.
"""
import os
import re
import select
import sys
import time

PASSED = re.compile(r"^\s+Passed (\S.*?)(?: \[[^\]]*\])?$")
FAILED = re.compile(r"^\s+Failed (\S.*?)(?: \[[^\]]*\])?$")
SKIPPED = re.compile(r"^\s+Skipped (\S.*?)(?: \[[^\]]*\])?$")
ASSEMBLY = re.compile(r"^Test run for (\S+?)(?:\.dll)? \(")
CHECK = re.compile(r"^(ok|FAIL)\s+(.*)$")
PYTHON = re.compile(r"^python: (.*) \.\.\. (ok|FAIL|ERROR|skipped.*)$")
NOTABLE = re.compile(r"(: error [A-Z]+[0-9]+:|^error: |^native/build\.sh: |Test Run Aborted|[Aa]borted|crashed)")
TOTALS = re.compile(r"^(Total tests: \d+|C test program .*: \d+ passed, \d+ failed)$")
C_PROGRAM = re.compile(r"^C test program .*: (\d+) passed, (\d+) failed$")
EVERY = 100


def outcome_of(text):
    """("passed" | "failed" | "skipped", test name) for a line that reports one test or check, else (None, None)."""
    for pattern, outcome in ((PASSED, "passed"), (FAILED, "failed"), (SKIPPED, "skipped")):
        if match := pattern.match(text):
            return outcome, match.group(1)
    if match := CHECK.match(text):
        return ("passed" if match.group(1) == "ok" else "failed"), match.group(2)
    if match := PYTHON.match(text):
        verdict = match.group(2)
        return ("passed" if verdict == "ok" else "skipped" if verdict.startswith("skipped") else "failed"), match.group(1)
    return None, None


class Progress:
    def __init__(self, heartbeat):
        self.heartbeat = heartbeat
        self.started = time.monotonic()
        self.last_printed = self.started
        self.passed = self.failed = self.skipped = 0
        self.part = None
        self.part_counts = None

    def say(self, text):
        print(text, flush=True)
        self.last_printed = time.monotonic()

    def elapsed(self):
        seconds = int(time.monotonic() - self.started)
        return f"{seconds // 60}m{seconds % 60:02d}s"

    def count(self):
        done = self.passed + self.failed + self.skipped
        return f"{done} done ({self.passed} passed, {self.failed} failed, {self.skipped} skipped), {self.elapsed()}"

    def line(self, text):
        outcome, name = outcome_of(text)
        if outcome == "passed":
            self.passed += 1
            if (self.passed + self.failed + self.skipped) % EVERY == 0:
                self.say(f"  {self.count()}")
        elif outcome == "failed":
            self.failed += 1
            self.say(f"  FAILED {name}")
        elif outcome == "skipped":
            self.skipped += 1
            self.say(f"  SKIPPED {name}")
        elif match := ASSEMBLY.match(text):
            self.say(f"{os.path.basename(match.group(1))}: running")
        elif text.startswith("== "):
            self.say(f"{text[3:]} ({self.count()})")
        elif NOTABLE.search(text) or TOTALS.match(text.strip()):
            if match := C_PROGRAM.match(text.strip()):  # a C program's checks are reported only as its totals
                self.passed += int(match.group(1))
                self.failed += int(match.group(2))
            self.say(f"  {text.strip()}")

    def tick(self):
        if time.monotonic() - self.last_printed >= self.heartbeat:
            self.say(f"  still running: {self.count()}")

    def finish(self):
        self.say(f"  finished: {self.count()}")


def main():
    arguments = sys.argv[1:]
    heartbeat = 30.0
    if arguments[:1] == ["--heartbeat"]:
        heartbeat = float(arguments[1])
        arguments = arguments[2:]
    if len(arguments) != 1:
        sys.exit(__doc__.split("\n\n")[1])
    progress = Progress(heartbeat)
    pending = b""
    with open(arguments[0], "ab") as log:
        while True:
            ready, _, _ = select.select([sys.stdin.buffer], [], [], min(heartbeat, 1.0))
            if not ready:
                progress.tick()
                continue
            chunk = os.read(sys.stdin.fileno(), 65536)
            if not chunk:
                break
            log.write(chunk)
            log.flush()
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for raw in lines:
                progress.line(raw.decode("utf-8", "replace").rstrip("\r"))
            progress.tick()
        if pending:
            progress.line(pending.decode("utf-8", "replace"))
    progress.finish()


if __name__ == "__main__":
    main()
