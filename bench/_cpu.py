"""CPU seconds a server process used, read from /proc: a figure the machine's other work does not inflate as much
as wall-clock time (a 2-core machine shared with other work runs every request later, not longer on the CPU)."""

import os
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def pid_serving(port: int) -> int:
    """The process started with `--port <port>` (the web process bench/api_nearby.running_server starts)."""
    wanted = f"--port\0{port}\0".encode()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if wanted in (entry / "cmdline").read_bytes():
                    return int(entry.name)
            except OSError:
                continue
    raise RuntimeError(f"no process serves port {port}")


def cpu_seconds(pid: int) -> float:
    """User and system CPU of the process so far (clock ticks, usually 10 ms: sum it over many requests)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS
