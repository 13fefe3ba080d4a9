"""Dispatch simulator: pushes calls for service and officer positions into a running connect, through the API.

    make run                                   # in one terminal (demo mode prints the demo token)
    .venv/bin/python bench/dispatch_sim.py     # in another; open http://127.0.0.1:8000/map/ as `analyst`

Options: --url (default http://127.0.0.1:8000), --token (default: the demo token), --units (12), --seconds
(0 = until Ctrl-C), --call-every (20 s), --quick (30 seconds). Units drive around downtown Raleigh and report
once a second in one batch (as a vehicle-location gateway does); calls appear at random places in the city,
go from pending to cleared over a few minutes, each update sent again under the same dispatch id.
Standard library only. The last line printed is a JSON summary.
"""

import argparse
import json
import math
import random
import sys
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime

DEMO_TOKEN = "cnt_demo0001_public-demo-token-never-use-in-production"  # api/management/commands/api_token_demo.py
CENTER = (35.7796, -78.6382)  # downtown Raleigh
CALL_TYPES = [("Burglary in progress", 1), ("Shots fired", 1), ("Vehicle break-in", 3), ("Disturbance", 2),
              ("Suspicious person", 3), ("Hit and run", 2), ("Alarm", 3), ("Robbery", 1)]
STATUSES = ["pending", "dispatched", "en_route", "on_scene", "cleared"]


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


class Api:
    def __init__(self, url: str, token: str):
        self.url, self.token = url.rstrip("/"), token
        self.errors = 0

    def post(self, path: str, body: dict) -> dict | None:
        request = urllib.request.Request(f"{self.url}{path}", data=json.dumps(body).encode(), method="POST",
                                         headers={"Authorization": f"Bearer {self.token}",
                                                  "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            self.errors += 1
            print(f"{path}: {exc.code} {exc.read()[:300].decode(errors='replace')}", file=sys.stderr)
        except OSError as exc:
            self.errors += 1
            print(f"{path}: {exc}", file=sys.stderr)
        return None


class Unit:
    def __init__(self, name: str, rng: random.Random):
        self.name, self.rng = name, rng
        self.lat = CENTER[0] + rng.uniform(-0.02, 0.02)
        self.lng = CENTER[1] + rng.uniform(-0.02, 0.02)
        self.heading = rng.randrange(360)

    def drive(self) -> dict:
        """About 40 km/h, turning now and then, staying near downtown."""
        self.heading = (self.heading + self.rng.choice([0, 0, 0, 0, 90, -90])) % 360
        if abs(self.lat - CENTER[0]) > 0.03 or abs(self.lng - CENTER[1]) > 0.03:
            self.heading = round(math.degrees(math.atan2(CENTER[1] - self.lng, CENTER[0] - self.lat))) % 360
        step = 11 / 111_000  # metres per second in degrees of latitude
        self.lat += step * math.cos(math.radians(self.heading))
        self.lng += step * math.sin(math.radians(self.heading)) / math.cos(math.radians(self.lat))
        return {"unit": self.name, "lat": round(self.lat, 6), "lng": round(self.lng, 6), "heading": self.heading,
                "speed": 40, "at": now_iso()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--token", default=DEMO_TOKEN)
    parser.add_argument("--units", type=int, default=12)
    parser.add_argument("--seconds", type=int, default=0)
    parser.add_argument("--call-every", type=float, default=20.0)
    parser.add_argument("--quick", action="store_true", help="run for 30 seconds")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    seconds = 30 if args.quick else args.seconds
    rng = random.Random(args.seed)
    api = Api(args.url, args.token)
    units = [Unit(f"{rng.choice('ABCDK')}{i + 10}", rng) for i in range(args.units)]
    calls: list[dict] = []
    sent = {"positions": 0, "calls": 0, "call_updates": 0}
    prefix = datetime.now(UTC).strftime("%y%m%d-%H%M")
    started = time.monotonic()
    next_call = started
    print(f"dispatch_sim: {len(units)} units and a call every {args.call_every:.0f} s into {args.url} "
          "(Ctrl-C stops)", file=sys.stderr)
    try:
        tick = 0
        while not seconds or time.monotonic() - started < seconds:
            if api.post("/api/v1/positions/batch/", {"positions": [unit.drive() for unit in units]}) is not None:
                sent["positions"] += len(units)
            if time.monotonic() >= next_call:
                call_type, priority = rng.choice(CALL_TYPES)
                call = {"dispatch_id": f"SIM-{prefix}-{sent['calls'] + 1:04d}", "call_type": call_type,
                        "priority": priority, "lat": round(CENTER[0] + rng.uniform(-0.025, 0.025), 6),
                        "lng": round(CENTER[1] + rng.uniform(-0.025, 0.025), 6), "received_at": now_iso(),
                        "status": "pending", "address": ""}
                if api.post("/api/v1/calls/", call) is not None:
                    sent["calls"] += 1
                    calls.append(call)
                    print(f"call {call['dispatch_id']}: P{priority} {call_type}", file=sys.stderr)
                next_call = time.monotonic() + args.call_every
            if tick % 15 == 14:  # calls move on: pending -> dispatched -> en route -> on scene -> cleared
                for call in [c for c in calls if c["status"] != "cleared" and rng.random() < 0.5]:
                    call["status"] = STATUSES[STATUSES.index(call["status"]) + 1]
                    if api.post("/api/v1/calls/", call) is not None:
                        sent["call_updates"] += 1
            tick += 1
            time.sleep(max(0.0, started + tick - time.monotonic()))
    except KeyboardInterrupt:
        pass
    print(json.dumps({"simulator": "dispatch_sim", "url": args.url, "units": len(units),
                      "seconds": round(time.monotonic() - started, 1), **sent, "errors": api.errors}))


if __name__ == "__main__":
    main()
