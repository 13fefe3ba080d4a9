"""The extra CPU of a live watch ("alert me when a match appears") per watched live view, and what it does to the
event loop that relays the picture.

    PG_PORT=... REDIS_PORT=... .venv/bin/python bench/live_watch.py          # 100 frames per width, 20 s of ticks
    PG_PORT=... REDIS_PORT=... .venv/bin/python bench/live_watch.py --quick  # 20 frames per width, 5 s of ticks

1. On one core (the process pinned to one CPU, OpenCV single-threaded): rendered street frames with one to three
   known people, JPEG at the connector's quality (70) and its default width (640) and at 960, checked as the watch
   socket checks them (detections.live.frame_check: decode, scale to CONNECT_DETECTIONS_WIDTH, the indexer's
   detector and attributes, two watches compared). Baseline in the same run: the bare JPEG decode of the same
   frames (the floor of looking at a frame at all). CPU seconds by time.process_time. The extra CPU per watched
   view is the check's CPU per frame times CONNECT_LIVE_WATCH_FPS (1 by default), as a share of one core.
2. The relay's event loop while checks run flat out in the watch thread pool (as many views as keep it busy): the
   lateness of a 5 ms ticker, p50 and p99, against the same ticker with the pool idle. Same single core.

Uses no database rows and no Redis keys (Django is set up on connect_bench only to read settings). Progress goes to
stderr; the last line of stdout is one JSON object.
"""

import argparse
import asyncio
import json
import random
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _data  # noqa: E402
from _runs import code_commit, single_run_guard  # noqa: E402

REDIS_DB = 27  # this script's own Redis database (bench/_services.py); it writes nothing there
PALETTE = ("red", "blue", "green", "yellow", "white", "black", "orange", "purple", "grey")
WATCHES = {"a": {"kind": "person", "upper_colour": "red", "hat": True, "bag": True},
           "b": {"kind": "person", "upper_colour": "yellow", "lower_colour": "black"}}


def frames(count: int, width: int) -> list[bytes]:
    import cv2

    from detections import synthetic

    rng = random.Random(7)
    base = synthetic.background(1280, 720)
    out = []
    for _ in range(count):
        people = [synthetic.Figure(rng.choice(PALETTE), rng.choice(PALETTE), hat=rng.choice(("", "white", "red")),
                                   bag=rng.random() < 0.5, x=rng.randint(150, 1130), top=rng.randint(120, 300),
                                   height=rng.randint(200, 300)) for _ in range(rng.randint(1, 3))]
        image = synthetic.frame_at(0, people, [], base)
        image = cv2.resize(image, (width, width * 9 // 16), interpolation=cv2.INTER_AREA)
        ok, jpeg = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 70])
        assert ok
        out.append(jpeg.tobytes())
    return out


def cpu_per_frame(jpegs: list[bytes]) -> dict:
    import cv2
    import numpy as np
    from django.conf import settings

    from detections import live
    from detections.detector import detector_make

    started = time.process_time()
    for jpeg in jpegs:
        cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    bare = (time.process_time() - started) / len(jpegs)
    detector = detector_make()
    live.frame_check(jpegs[0], WATCHES, detector)  # warm
    marks = 0
    started = time.process_time()
    for jpeg in jpegs:
        marks += len(live.frame_check(jpeg, WATCHES, detector))
    check = (time.process_time() - started) / len(jpegs)
    return {"frames": len(jpegs), "bare_decode_ms": round(bare * 1000, 2), "check_ms": round(check * 1000, 1),
            "check_over_bare": round(check / bare, 1) if bare else None, "marks": marks,
            "extra_core_share_per_view": round(check * settings.LIVE_WATCH_FPS, 3),
            "views_per_core": int(1 / (check * settings.LIVE_WATCH_FPS)) if check else None}


async def ticker_lateness(seconds: float) -> list[float]:
    loop = asyncio.get_running_loop()
    late = []
    end = loop.time() + seconds
    while loop.time() < end:
        due = loop.time() + 0.005
        await asyncio.sleep(0.005)
        late.append((loop.time() - due) * 1000)
    return late


def loop_lateness(jpegs: list[bytes], seconds: float) -> dict:
    from detections import live
    from detections.detector import detector_make

    def summary(values):
        values = sorted(values)
        return {"p50_ms": round(statistics.median(values), 2), "p99_ms": round(values[int(0.99 * len(values))], 2)}

    idle = summary(asyncio.run(ticker_lateness(seconds)))
    stop = threading.Event()

    def checking():
        detector, i = detector_make(), 0
        while not stop.is_set():
            live.frame_check(jpegs[i % len(jpegs)], WATCHES, detector)
            i += 1

    worker = threading.Thread(target=checking, daemon=True)
    worker.start()
    try:
        busy = summary(asyncio.run(ticker_lateness(seconds)))
    finally:
        stop.set()
        worker.join()
    return {"idle": idle, "checking_flat_out": busy}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    guard = single_run_guard("live_watch")
    _data.setup_django(REDIS_DB)
    import os

    import cv2

    os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    cv2.setNumThreads(1)
    count, seconds = (20, 5.0) if args.quick else (100, 20.0)
    started = time.perf_counter()
    summary = {"benchmark": "live_watch", "quick": args.quick, "commit": code_commit()}
    for width in (640, 960):
        _data.log(f"checking {count} frames {width} px wide")
        summary[f"width_{width}"] = cpu_per_frame(frames(count, width))
    _data.log(f"event loop lateness, {seconds} s idle and {seconds} s with checks running")
    summary["relay_loop"] = loop_lateness(frames(10, 640), seconds)
    summary["machine"] = _data.machine()
    summary["seconds"] = round(time.perf_counter() - started, 1)
    guard.close()
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
