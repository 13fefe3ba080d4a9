"""One bulletin with a 200 KB still to 200 connected patrol pages: how long until each has it.

    PG_PORT=... REDIS_PORT=... .venv/bin/python bench/bulletin_fanout.py          # 10 bulletins
    PG_PORT=... REDIS_PORT=... .venv/bin/python bench/bulletin_fanout.py --quick  # 3 bulletins

connect's real ASGI server (uvicorn, one process, with the ledger's sealer, as the Procfile runs them) on
connect_bench and a Redis database of its own. 200 patrol officers (units B000-B199), each signed in with a
websocket on ws/patrol/. This process sends each bulletin through bulletins.services.bulletin_send (rows, the
still sealed under the key service, the ledger, one group message to every patrol socket after commit) to all 200 units,
one bulletin at a time. Measured from the call:
  notified     the bulletin's message arrives on the officer's socket
  still        the officer's page has then the still in hand: the binary frame that follows the message on the
               same socket (bulletins.still_delivery: each officer checked, each delivery recorded in the ledger
               before it leaves), or, where the server says so or a version without it runs, fetched over the
               page's own keep-alive connection (GET /bulletins/<code>/still.jpg, decrypted and recorded)
The pages ask for no permessage-deflate: the Procfile's server refuses it (--ws-per-message-deflate false), while the
benchmark's server (api_nearby.running_server) would otherwise compress every frame, the still's too.
Baseline, same run: the bare channel layer, the same payload with the still inside (base64) sent with group_send
to 200 groups of one channel each, received by 200 bare layer receivers in this process: Redis only, no server,
no database, no socket. Target: p99 of `still` under 1 s.

Progress goes to stderr; the last line of stdout is one JSON object.
"""

import argparse
import asyncio
import base64
import io
import json
import random
import statistics
import sys
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _data  # noqa: E402
import _services  # noqa: E402
from _runs import code_commit, pressure_share, pressure_totals, single_run_guard  # noqa: E402

OFFICERS = 200
STILL_BYTES = 200 * 1024
REDIS_DB = 24  # this script's own Redis database (bench/_services.py)
REDIS_URL = f"{_data.REDIS}/{REDIS_DB}"


def summary_of(latencies: list[float]) -> dict:
    if len(latencies) < 2:
        return {"n": len(latencies)}
    cuts = statistics.quantiles(sorted(latencies), n=100, method="inclusive")
    return {"n": len(latencies), "p50_ms": round(cuts[49] * 1000, 1), "p95_ms": round(cuts[94] * 1000, 1),
            "p99_ms": round(cuts[98] * 1000, 1), "max_ms": round(max(latencies) * 1000, 1)}


def still_of_size(size: int) -> bytes:
    """A JPEG of about `size` bytes (noise compresses badly, as a street scene at night does)."""
    from PIL import Image

    rng = random.Random(17)
    side = 320
    while True:
        image = Image.frombytes("RGB", (side, side), bytes(rng.getrandbits(8) for _ in range(side * side * 3)))
        out = io.BytesIO()
        image.save(out, "JPEG", quality=85)
        if out.tell() >= size:
            return out.getvalue()
        side += 40


async def _get(port: int, path: str, cookie: str, conn: dict) -> int:
    """GET over the client's keep-alive connection; returns the body's length."""
    if "writer" not in conn:
        conn["reader"], conn["writer"] = await asyncio.open_connection("127.0.0.1", port)
    conn["writer"].write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nCookie: {cookie}\r\n\r\n".encode())
    await conn["writer"].drain()
    head = await conn["reader"].readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = int(next(line.split(b":", 1)[1] for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-length")))
    body = await conn["reader"].readexactly(length)
    if status != 200:
        raise RuntimeError(f"still: {status} {body[:200]!r}")
    return len(body)


class Officers:
    """200 patrol pages in one event loop on a thread of their own."""

    def __init__(self, port: int, cookies: list[str], still_bytes: int):
        self.port, self.cookies, self.still_bytes = port, cookies, still_bytes
        self.by_page = 0  # stills fetched over HTTP rather than taken from the socket
        self.started = 0.0  # when the current bulletin's send began (one bulletin at a time)
        self.notified: list[float] = []
        self.still: list[float] = []
        self.errors: list[str] = []
        self.ready = threading.Event()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=lambda: asyncio.run(self.run()), daemon=True)
        self.pending = 0
        self.lock = threading.Lock()

    async def run(self) -> None:
        connected = 0

        async def page(cookie: str) -> None:
            nonlocal connected
            import websockets

            conn: dict = {}
            async with websockets.connect(f"ws://127.0.0.1:{self.port}/ws/patrol/", origin=f"http://127.0.0.1:{self.port}",
                                          additional_headers={"Cookie": cookie}, max_size=2**24,
                                          compression=None) as socket:
                first = json.loads(await socket.recv())
                assert first["type"] == "snapshot", first
                connected += 1
                if connected == len(self.cookies):
                    self.ready.set()
                while not self.stop.is_set():
                    try:
                        message = json.loads(await asyncio.wait_for(socket.recv(), timeout=0.5))
                    except TimeoutError:
                        continue
                    if message["type"] != "bulletin":
                        continue
                    arrived = time.perf_counter()
                    bulletin = message["bulletin"]
                    started = self.started
                    self.notified.append(arrived - started)
                    try:
                        if not (bulletin.get("still_on_socket") and await self._framed(socket, bulletin["code"])):
                            self.by_page += 1
                            try:
                                await _get(self.port, bulletin["media_url"], cookie, conn)
                            except (asyncio.IncompleteReadError, ConnectionError):  # the server closed an idle one
                                conn.pop("writer").close()
                                await _get(self.port, bulletin["media_url"], cookie, conn)
                        self.still.append(time.perf_counter() - started)
                    except Exception as exc:  # counted, not raised: the run goes on
                        self.errors.append(str(exc))
                    with self.lock:
                        self.pending -= 1
            if "writer" in conn:
                conn["writer"].close()

        await asyncio.gather(*(page(cookie) for cookie in self.cookies))

    async def _framed(self, socket, code: str) -> bool:
        """True once the still's frame came on the socket (checked: this bulletin's, whole); False when the server
        says to fetch it by address instead."""
        while True:
            message = await asyncio.wait_for(socket.recv(), timeout=30)
            if isinstance(message, bytes):
                if message[:16] != uuid.UUID(code).bytes or len(message) - 16 != self.still_bytes:
                    raise RuntimeError(f"still frame: {len(message)} bytes, not this bulletin's still")
                return True
            if json.loads(message).get("type") == "still_by_page":
                return False


def media_views_recorded(codes: list[str], *, expected: int) -> int:
    """The stills' views in the ledger's chain (each delivery is one), once the sealer has chained them."""
    from audit.actions import Action
    from audit.models import AccessEntry

    deadline = time.monotonic() + 15
    while True:
        count = AccessEntry.objects.filter(action=Action.BULLETIN_MEDIA_VIEWED, target_code__in=codes).count()
        if count >= expected or time.monotonic() > deadline:
            return count
        time.sleep(0.2)


def baseline(payload: dict, rounds: int) -> list[float]:
    """The same payload, the still inside, group_send to 200 one-channel groups; 200 bare receivers."""
    from channels.layers import get_channel_layer

    async def run() -> list[float]:
        layer = get_channel_layer()
        channels = [await layer.new_channel() for _ in range(OFFICERS)]
        groups = [f"bench.bulletin.{i}" for i in range(OFFICERS)]
        for group, channel in zip(groups, channels, strict=True):
            await layer.group_add(group, channel)
        latencies: list[float] = []
        for _ in range(rounds):
            started = time.perf_counter()
            receivers = [asyncio.ensure_future(layer.receive(channel)) for channel in channels]

            async def sent_and_received(receiver, started=started):
                await receiver
                latencies.append(time.perf_counter() - started)

            waiting = [asyncio.ensure_future(sent_and_received(r)) for r in receivers]
            for group in groups:
                await layer.group_send(group, {"type": "bulletin.new", "bulletin": payload})
            await asyncio.gather(*waiting)
        for group, channel in zip(groups, channels, strict=True):
            await layer.group_discard(group, channel)
        return latencies

    return asyncio.run(run())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    rounds = 3 if args.quick else 10
    guard = single_run_guard("bulletin_fanout")
    _data.setup_django(REDIS_DB)
    _services.redis_claim(REDIS_URL, "bulletin_fanout")

    from _sessions import signed_in, staff_user
    from api_nearby import running_server

    from bulletins import services
    from bulletins.models import Bulletin, PatrolOfficer
    from common.roles import CRIME_ANALYST, PATROL_OFFICER

    Bulletin.objects.filter(sender__username="bench-bulletin-analyst").delete()  # earlier runs'
    sender = staff_user("bench-bulletin-analyst", CRIME_ANALYST)
    cookies, units = [], []
    for i in range(OFFICERS):
        user = staff_user(f"bench-patrol-{i:03d}", PATROL_OFFICER)
        PatrolOfficer.objects.update_or_create(user=user, defaults={"unit": f"B{i:03d}", "zone": "Bench"})
        name, key = signed_in(user)
        cookies.append(f"{name}={key}")
        units.append(f"B{i:03d}")
    still = still_of_size(STILL_BYTES)
    _data.log(f"bulletin_fanout: still {len(still)} bytes, {OFFICERS} officers, {rounds} bulletins")
    pressure = pressure_totals()
    started_run = time.perf_counter()
    with running_server(REDIS_URL) as port:
        officers = Officers(port, cookies, len(still))
        officers.thread.start()
        if not officers.ready.wait(120):
            raise RuntimeError("the patrol pages did not all connect")
        send_times, codes = [], []
        for r in range(rounds):
            officers.pending = OFFICERS
            officers.started = started = time.perf_counter()
            codes.append(str(services.bulletin_send(
                sender=sender, description=f"bench bulletin {r}", priority="urgent",
                addressees=services.Addressees(units=units), still=services.Still(jpeg=still)).code))
            send_times.append(time.perf_counter() - started)
            deadline = time.monotonic() + 30
            while officers.pending > 0 and time.monotonic() < deadline:
                time.sleep(0.02)
            _data.log(f"bulletin_fanout: bulletin {r}: send {send_times[-1] * 1000:.0f} ms, "
                      f"{OFFICERS - officers.pending} of {OFFICERS} pages have it")
            time.sleep(0.5)
        officers.stop.set()
        officers.thread.join(10)
        recorded = media_views_recorded(codes, expected=len(officers.still))
    payload = {"code": "bench", "description": "bench", "still": base64.b64encode(still).decode()}
    _data.log("bulletin_fanout: baseline (bare group_send) ...")
    bare = summary_of(baseline(payload, rounds))
    notified, got_still = summary_of(officers.notified), summary_of(officers.still)
    summary = {
        "benchmark": "bulletin_fanout", "quick": args.quick, "commit": code_commit(), "officers": OFFICERS,
        "still_bytes": len(still), "bulletins": rounds, "send_call": summary_of(send_times),
        "notified": notified, "still_in_hand": got_still, "errors": len(officers.errors),
        "stills_fetched_by_page": officers.by_page, "media_views_in_ledger": recorded,
        "error_sample": officers.errors[:3], "baseline_bare_group_send": bare,
        "ratio_p99": _data.ratio(got_still.get("p99_ms", 0), bare.get("p99_ms", 0)),
        "ratio_p99_notified": _data.ratio(notified.get("p99_ms", 0), bare.get("p99_ms", 0)),
        "target": {"p99_ms_max": 1000, "met": got_still.get("p99_ms", 1e9) < 1000 and not officers.errors
                   and got_still.get("n") == OFFICERS * rounds},
        "pressure": pressure_share(pressure, time.perf_counter() - started_run), "machine": _data.machine(),
    }
    _services.redis_release(REDIS_URL, "bulletin_fanout")
    guard.close()
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
