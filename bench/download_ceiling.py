"""How fast can any Python process send a sealed clip's plaintext over loopback TCP on this machine? The ceiling
under bench/evidence_download.py's local figure, measured without HTTP, Django or a database.

    .venv/bin/python bench/download_ceiling.py          # 1 GiB, 3 rounds
    .venv/bin/python bench/download_ceiling.py --quick  # 256 MiB, 3 rounds

A file of 1 MiB AES-256-GCM records (connect's record size; random plaintext) is written to a temporary folder and
read from the page cache. Each round times, in turn:
  bare     read each record (os.pread) and decrypt it, nothing sent: evidence_download.py's bare loop
  raw      one 1 MiB buffer sent over and over through one loopback TCP connection (socket.sendall): the transport
           alone
  inline   read, decrypt and sendall each record on one thread
  thread   read and decrypt on a second thread, 4 records ahead, sendall on the first (connect's shape)
The receiver is another process reading into one reused 1 MiB buffer, as evidence_download.py's client does. Each
figure is the best of the rounds (MiB/s) with the sending process's CPU seconds; ratios are to the bare loop.
Progress goes to stderr; the last line of stdout is one JSON object.
"""

import argparse
import json
import os
import queue
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MIB = 1 << 20
RECORD = MIB + 16
NONCE = bytes(12)
RECEIVER = """import socket, sys
conn = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
buffer = bytearray(1 << 20)
while conn.recv_into(buffer):
    pass
"""


def log(message: str) -> None:
    print(f"download_ceiling: {message}", file=sys.stderr, flush=True)


def records(fd: int, aead: AESGCM, count: int):
    for index in range(count):
        yield aead.decrypt(NONCE, os.pread(fd, RECORD, index * RECORD), None)


def timed(run) -> dict:
    began, cpu = time.perf_counter(), time.process_time()
    count = run()
    seconds = time.perf_counter() - began
    return {"mib_per_s": round(count / seconds, 1), "cpu_s": round(time.process_time() - cpu, 3)}


def send(how, count: int) -> dict:
    server = socket.create_server(("127.0.0.1", 0))
    receiver = subprocess.Popen([sys.executable, "-c", RECEIVER, str(server.getsockname()[1])])
    conn, _ = server.accept()
    try:
        return timed(lambda: (how(conn), receiver.wait(), count)[-1])
    finally:
        server.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="256 MiB instead of 1 GiB")
    args = parser.parse_args()
    count = 256 if args.quick else 1024
    aead = AESGCM(os.urandom(32))
    with tempfile.TemporaryDirectory(prefix="connect-bench-ceiling-") as work:
        path = Path(work) / "clip.sealed"
        log(f"sealing {count} MiB")
        with open(path, "wb") as out:
            for _ in range(count):
                out.write(aead.encrypt(NONCE, os.urandom(MIB), None))
        fd = os.open(path, os.O_RDONLY)

        def bare():
            for _ in records(fd, aead, count):
                pass
            return count

        def raw(conn):
            blob = os.urandom(MIB)
            for _ in range(count):
                conn.sendall(blob)
            conn.close()

        def inline(conn):
            for piece in records(fd, aead, count):
                conn.sendall(piece)
            conn.close()

        def threaded(conn):
            ready = queue.Queue(4)
            worker = threading.Thread(target=lambda: [*map(ready.put, records(fd, aead, count)), ready.put(None)])
            worker.start()
            while (piece := ready.get()) is not None:
                conn.sendall(piece)
            conn.close()
            worker.join()

        rounds = {name: [] for name in ("bare", "raw", "inline", "thread")}
        for round_number in range(3):
            log(f"round {round_number + 1} of 3")
            rounds["bare"].append(timed(bare))
            for name, how in (("raw", raw), ("inline", inline), ("thread", threaded)):
                rounds[name].append(send(how, count))
        os.close(fd)
    best = {name: max(runs, key=lambda run: run["mib_per_s"]) for name, runs in rounds.items()}
    result = {"benchmark": "download_ceiling", "quick": args.quick, "mib": count,
              **{name: {**figures, "all_mib_per_s": [run["mib_per_s"] for run in rounds[name]]}
                 for name, figures in best.items()},
              **{f"ratio_{name}_to_bare": round(best[name]["mib_per_s"] / best["bare"]["mib_per_s"], 3)
                 for name in ("raw", "inline", "thread")},
              "cpus": os.cpu_count()}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
