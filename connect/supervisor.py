"""`make run`'s process supervisor: runs the Procfile's processes and restarts one that dies, the rest untouched.

honcho (what `make run` used before) stops every process when one exits, so a worker killed by the out-of-memory
killer took web, beat and the sealer down with it. Here a process that exits is logged (its name, its exit status
or the signal that killed it) and started again after a back-off that doubles from 1 s up to 30 s while it keeps
dying quickly, and starts over at 1 s once it has run for a minute. Ctrl-C (or SIGTERM) stops every process: each
gets SIGTERM, and SIGKILL after `--stop-timeout` seconds. The supervisor never touches PostgreSQL or Redis:
scripts/run.sh stops, on its way out, only those it started itself.

    python -m connect.supervisor [-f Procfile] [process ...]

Each process runs in a session of its own (so Ctrl-C in the terminal reaches the supervisor only, which stops
them in order) through `sh -c "exec COMMAND"`, as honcho does, so `${PORT:-8000}` and the like expand. Output
lines are prefixed with the process name. Production does not use this: systemd or the container runtime
restarts each process there (deploy/systemd, compose.yaml).

Its own code uses the standard library only and never sets Django up: a broken setting shows in the process that
reads it, which is then restarted with back-off, not in the supervisor.
"""

import argparse
import os
import selectors
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

FIRST_BACKOFF_S = 1.0
MAX_BACKOFF_S = 30.0
STABLE_AFTER_S = 60.0  # a process that ran this long gets the short back-off again when it next dies


def procfile_read(path: Path) -> dict[str, str]:
    """{name: command}, in the file's order; blank lines and comments skipped."""
    commands = {}
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, sep, command = line.partition(":")
        if not sep or not name.strip() or not command.strip():
            raise SystemExit(f"{path}:{number}: not a `name: command` line: {line!r}")
        commands[name.strip()] = command.strip()
    return commands


def exit_reason(returncode: int) -> str:
    """How a child ended, in words: Popen gives -N for a death by signal N."""
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exited with status {returncode}"


def next_backoff(previous: float, ran_for: float) -> float:
    """1 s after a process that had been running stably, otherwise double the last wait, up to 30 s."""
    if previous <= 0 or ran_for >= STABLE_AFTER_S:
        return FIRST_BACKOFF_S
    return min(previous * 2, MAX_BACKOFF_S)


@dataclass
class Child:
    name: str
    command: str
    popen: subprocess.Popen | None = None
    started_at: float = 0.0
    backoff: float = 0.0
    restart_at: float | None = None  # when a dead process is due to start again
    restarts: int = 0
    pending: bytes = field(default=b"", repr=False)  # a partial output line


class Supervisor:
    def __init__(self, commands: dict[str, str], *, stop_timeout: float = 10.0, out=None):
        self.children = [Child(name, command) for name, command in commands.items()]
        self.stop_timeout = stop_timeout
        self.out = out or sys.stdout.buffer
        self.width = max(len("system"), *(len(name) for name in commands))
        self.selector = selectors.DefaultSelector()
        self.stopping = False

    # --- output ----------------------------------------------------------------------------------------------

    def say(self, name: str, text: str) -> None:
        self._write(name, text.encode())

    def _write(self, name: str, line: bytes) -> None:
        stamp = time.strftime("%H:%M:%S")
        self.out.write(f"{stamp} {name:<{self.width}} | ".encode() + line.rstrip(b"\r\n") + b"\n")
        self.out.flush()

    def _pump(self, child: Child, stream) -> None:
        data = os.read(stream.fileno(), 65536)
        if not data:
            self.selector.unregister(stream)
            stream.close()
            if child.pending:
                self._write(child.name, child.pending)
                child.pending = b""
            return
        lines = (child.pending + data).split(b"\n")
        child.pending = lines.pop()
        for line in lines:
            self._write(child.name, line)

    # --- lifecycle -------------------------------------------------------------------------------------------

    def start(self, child: Child) -> None:
        child.popen = subprocess.Popen(["/bin/sh", "-c", f"exec {child.command}"], stdin=subprocess.DEVNULL,
                                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
        child.started_at = time.monotonic()
        child.restart_at = None
        self.selector.register(child.popen.stdout, selectors.EVENT_READ, child)
        again = f" (restart {child.restarts})" if child.restarts else ""
        self.say("system", f"{child.name} started with pid {child.popen.pid}{again}")

    def reap(self) -> None:
        """Notices children that ended and schedules their restart."""
        now = time.monotonic()
        for child in self.children:
            if child.popen is None or child.popen.poll() is None:
                continue
            ran_for = now - child.started_at
            reason = exit_reason(child.popen.returncode)
            self._kill_group(child, signal.SIGKILL)  # whatever it left running in its session (a prefork pool)
            child.popen = None
            if self.stopping:
                continue
            child.backoff = next_backoff(child.backoff, ran_for)
            child.restart_at = now + child.backoff
            child.restarts += 1
            self.say("system", f"{child.name} {reason} after {ran_for:.1f} s; the other processes go on; "
                               f"restarting it in {child.backoff:.0f} s")

    def run(self) -> int:
        for child in self.children:
            self.start(child)
        while not self.stopping:
            for key, _ in self.selector.select(timeout=0.5):
                self._pump(key.data, key.fileobj)
            self.reap()
            now = time.monotonic()
            for child in self.children:
                if child.popen is None and child.restart_at is not None and now >= child.restart_at:
                    self.start(child)
        return self.stop_all()

    def request_stop(self, signum, _frame) -> None:
        if not self.stopping:
            self.stopping = True
            self.say("system", f"{signal.Signals(signum).name} received: stopping every process")

    def _kill_group(self, child: Child, signum: int) -> None:
        if child.popen is None:
            return
        try:
            os.killpg(child.popen.pid, signum)
        except (ProcessLookupError, PermissionError):
            pass

    def stop_all(self) -> int:
        running = [child for child in self.children if child.popen is not None]
        for child in running:
            self._kill_group(child, signal.SIGTERM)
        deadline = time.monotonic() + self.stop_timeout
        while any(child.popen.poll() is None for child in running) and time.monotonic() < deadline:
            for key, _ in self.selector.select(timeout=0.2):
                self._pump(key.data, key.fileobj)
        for child in running:
            if child.popen.poll() is None:
                self.say("system", f"{child.name} did not stop within {self.stop_timeout:.0f} s: killing it")
            self._kill_group(child, signal.SIGKILL)  # also what its session left behind
            child.popen.wait()
        for key in list(self.selector.get_map().values()):
            self._pump(key.data, key.fileobj)
        self.say("system", "every process stopped")
        return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m connect.supervisor", description=__doc__.split("\n\n")[0])
    parser.add_argument("-f", "--procfile", default="Procfile", type=Path)
    parser.add_argument("--stop-timeout", type=float, default=10.0,
                        help="seconds each process gets to stop after SIGTERM before SIGKILL (10)")
    parser.add_argument("processes", nargs="*", help="which of the Procfile's processes to run (all)")
    args = parser.parse_args(argv)
    commands = procfile_read(args.procfile)
    unknown = [name for name in args.processes if name not in commands]
    if unknown:
        parser.error(f"not in {args.procfile}: {', '.join(unknown)}")
    if args.processes:
        commands = {name: commands[name] for name in args.processes}
    if not commands:
        parser.error(f"{args.procfile} names no process")
    supervisor = Supervisor(commands, stop_timeout=args.stop_timeout)
    signal.signal(signal.SIGINT, supervisor.request_stop)
    signal.signal(signal.SIGTERM, supervisor.request_stop)
    signal.signal(signal.SIGHUP, supervisor.request_stop)
    return supervisor.run()


if __name__ == "__main__":
    sys.exit(main())
