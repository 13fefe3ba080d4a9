"""Officer positions end to end: 200 units push a position every second through the API while 5 staff map
viewers listen on ws/dispatch/.

    PG_PORT=... REDIS_PORT=... .venv/bin/python bench/positions.py          # 60 seconds of pushing
    PG_PORT=... REDIS_PORT=... .venv/bin/python bench/positions.py --quick  # 15 seconds

connect's real ASGI server (uvicorn, one process, as the Procfile runs it) on connect_bench and a Redis
database of its own. Two modes, one after the other, each for the run's seconds:
  per_request  20 threads, each with a keep-alive connection and the API token, sending each of its 10 units'
               positions once a second as its own request (POST /api/v1/positions/)
  batched      4 gateways, each sending its 50 units' positions once a second in one request
               (POST /api/v1/positions/batch/)
`at` is the time of sending. Viewers: 5 websocket
clients signed in as crime analysts. Latency = when a viewer receives a unit's position minus when it was
sent (same machine clock). After the last round every viewer must hold, for every unit, the position sent
last: a lost latest update is counted.
Baseline, same run: the same 5 viewers, the same number of positions sent straight into the channel layer
(group_send of a batch per 100 ms, as the server's flusher does) from this process: Redis and the consumer
only, no HTTP, no token, no database.

Progress goes to stderr; the last line of stdout is one JSON object.
"""

import argparse
import asyncio
import http.client
import json
import statistics
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _data  # noqa: E402
import _services  # noqa: E402
from _runs import code_commit, pressure_share, pressure_totals, single_run_guard  # noqa: E402

UNITS = 200
VIEWERS = 5
PUSHERS = 20  # per_request: 20 threads, each sending its 10 units' positions one request each
GATEWAYS = 4  # batched: 4 vehicle-location gateways, each sending its 50 units' positions in one request
REDIS_DB = 10  # this script's own Redis database (bench/_services.py)
REDIS_URL = f"{_data.REDIS}/{REDIS_DB}"


def percentile(samples: list[float], q: int) -> float:
    return round(statistics.quantiles(sorted(samples), n=100, method="inclusive")[q - 1] * 1000, 1)


def summary_of(latencies: list[float]) -> dict:
    if len(latencies) < 2:
        return {"n": len(latencies)}
    return {"n": len(latencies), "p50_ms": percentile(latencies, 50), "p95_ms": percentile(latencies, 95),
            "p99_ms": percentile(latencies, 99), "max_ms": round(max(latencies) * 1000, 1)}


class Viewer:
    """One map viewer: records each position's latency and the newest `at` per unit."""

    def __init__(self, url: str, cookie: str, origin: str):
        self.url, self.cookie, self.origin = url, cookie, origin
        self.latencies: list[float] = []
        self.latest: dict[str, float] = {}
        self.ready = threading.Event()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=lambda: asyncio.run(self.run()), daemon=True)

    async def run(self) -> None:
        import websockets

        async with websockets.connect(self.url, additional_headers={"Cookie": self.cookie},
                                      origin=self.origin, max_size=2**24) as socket:
            snapshot = json.loads(await socket.recv())
            assert snapshot["type"] == "snapshot", snapshot
            self.ready.set()
            while not self.stop.is_set():
                try:
                    message = await asyncio.wait_for(socket.recv(), timeout=0.5)
                except TimeoutError:
                    continue
                now = time.time()
                event = json.loads(message)
                if event["type"] != "positions":
                    continue
                for position in event["positions"]:
                    at = datetime.fromisoformat(position["at"]).timestamp()
                    self.latencies.append(now - at)
                    if at > self.latest.get(position["unit"], 0.0):
                        self.latest[position["unit"]] = at


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    rounds = 15 if args.quick else 60
    guard = single_run_guard("positions")
    _data.setup_django(REDIS_DB)  # the baseline sends through this Redis database too
    _services.redis_claim(REDIS_URL, "positions")  # an interrupted run's keys go at the next run's claim

    from map_geojson import analyst_session_cookie

    from api import services
    from api.models import ApiToken
    from dispatch.models import OfficerPosition

    OfficerPosition.objects.all().delete()  # connect_bench's, from earlier runs
    ApiToken.objects.filter(name="bench positions").delete()
    _, key = services.token_create(name="bench positions", scopes=["positions:write"])
    cookie_name, session_key = analyst_session_cookie()
    units = [f"U{i:03d}" for i in range(UNITS)]
    lock = threading.Lock()
    pressure = pressure_totals()
    started_run = time.perf_counter()

    from api_nearby import running_server

    with running_server(REDIS_URL) as port:
        base = f"127.0.0.1:{port}"
        viewers = [Viewer(f"ws://{base}/ws/dispatch/", f"{cookie_name}={session_key}", f"http://{base}")
                   for _ in range(VIEWERS)]
        for viewer in viewers:
            viewer.thread.start()
        for viewer in viewers:
            if not viewer.ready.wait(20):
                raise RuntimeError("a viewer did not connect")

        def post(conn, path: str, body: dict) -> int:
            conn.request("POST", path, body=json.dumps(body), headers=headers)
            response = conn.getresponse()
            response.read()
            return response.status

        def position(unit: str, r: int, index: int) -> dict:
            return {"unit": unit, "lat": 35.70 + (r + index) % 250 / 1000, "lng": -78.80 + index / 1000,
                    "heading": (r * 7) % 360, "at": iso(time.time())}

        def pusher(index: int, start_at: float, mode: str, threads: int, result: dict) -> None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            mine = units[index::threads]
            for r in range(rounds):
                wake = start_at + r + index / threads  # spread the senders over each second
                time.sleep(max(0.0, wake - time.time()))
                if mode == "per_request":
                    sends = [[position(unit, r, j)] for j, unit in enumerate(mine)]
                else:
                    sends = [[position(unit, r, j) for j, unit in enumerate(mine)]]
                for batch in sends:
                    sent = time.time()
                    status = (post(conn, "/api/v1/positions/", batch[0]) if mode == "per_request"
                              else post(conn, "/api/v1/positions/batch/", {"positions": batch}))
                    with lock:
                        result["push_times"].append(time.time() - sent)
                        result["statuses"][status] = result["statuses"].get(status, 0) + len(batch)
                        if status == 202:
                            for p in batch:
                                result["last_sent"][p["unit"]] = datetime.fromisoformat(p["at"]).timestamp()
            conn.close()

        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        modes = {}
        for mode, threads_n in (("per_request", PUSHERS), ("batched", GATEWAYS)):
            for viewer in viewers:
                viewer.latencies.clear()
            result = {"push_times": [], "statuses": {}, "last_sent": {}}
            _data.log(f"positions: {mode}: {UNITS} units x {rounds} s through the API, {VIEWERS} viewers ...")
            start_at = time.time() + 1
            threads = [threading.Thread(target=pusher, args=(i, start_at, mode, threads_n, result))
                       for i in range(threads_n)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            pushed_wall = time.time() - start_at
            time.sleep(1.5)  # the last tick
            latencies = [lat for viewer in viewers for lat in viewer.latencies]
            lost = sum(1 for viewer in viewers for unit, at in result["last_sent"].items()
                       if viewer.latest.get(unit) != at)
            pushed = sum(result["statuses"].values())
            modes[mode] = {
                "senders": threads_n, "requests": len(result["push_times"]), "positions": pushed,
                "statuses": result["statuses"], "positions_per_s": round(pushed / pushed_wall, 1),
                "request_http": summary_of(result["push_times"]), "push_to_viewer": summary_of(latencies),
                "positions_received_per_viewer": [len(viewer.latencies) for viewer in viewers],
                "lost_latest_updates": lost,
                "targets": {"p99_ms_max": 500, "rate_met": pushed / pushed_wall >= 0.95 * UNITS,
                            "p99_met": summary_of(latencies).get("p99_ms", 1e9) <= 500,
                            "no_lost_latest": lost == 0},
            }
            _data.log(f"positions: {mode}: {modes[mode]['positions_per_s']} positions/s, push->viewer "
                      f"{modes[mode]['push_to_viewer']}, lost latest {lost}")

        # Baseline: the same positions straight into the channel layer, batched per 100 ms.
        for viewer in viewers:
            viewer.latencies.clear()
        from channels.layers import get_channel_layer

        async def baseline() -> None:
            layer = get_channel_layer()
            for _ in range(rounds):
                for tick in range(10):
                    now = time.time()
                    batch = [{"unit": unit, "lat": 35.75, "lng": -78.7, "heading": 0, "speed": None,
                              "at": iso(now)} for unit in units[tick * 20:(tick + 1) * 20]]
                    await layer.group_send("dispatch.live", {"type": "dispatch.positions", "positions": batch})
                    await asyncio.sleep(0.1)

        _data.log("positions: baseline (channel layer only) ...")
        asyncio.run(baseline())
        time.sleep(1.0)
        bare_latencies = [lat for viewer in viewers for lat in viewer.latencies]
        for viewer in viewers:
            viewer.stop.set()
        for viewer in viewers:
            viewer.thread.join(5)  # each closes its socket before the server stops

    bare = summary_of(bare_latencies)
    summary = {
        "benchmark": "positions", "quick": args.quick, "commit": code_commit(), "units": UNITS, "viewers": VIEWERS,
        "seconds_per_mode": rounds, "modes": modes, "stored": OfficerPosition.objects.count(),
        "baseline_channel_layer_only": bare,
        "ratio_p99": {mode: _data.ratio(m["push_to_viewer"].get("p99_ms", 0), bare.get("p99_ms", 0))
                      for mode, m in modes.items()},
        "pressure": pressure_share(pressure, time.perf_counter() - started_run), "machine": _data.machine(),
    }
    _data.log(f"positions: baseline p99 {bare.get('p99_ms')} ms")
    _services.redis_release(REDIS_URL, "positions")
    guard.close()
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
