"""Indexing speed, detector precision and recall on labelled rendered clips, and attribute search at 10,000 clips.

    PG_PORT=... REDIS_PORT=... .venv/bin/python bench/index_clips.py          # 40 labelled clips, 30 s speed clip
    PG_PORT=... REDIS_PORT=... .venv/bin/python bench/index_clips.py --quick  # 5 labelled clips, 4 s clip

1. Speed, on one core (the process pinned to one CPU, OpenCV and FFmpeg single-threaded): a rendered 720p street
   clip at 25 fps, decoded bare (PyAV decode and conversion to pixels: the floor any indexer pays), then indexed as
   the worker does (CONNECT_DETECTIONS_SAMPLE_FPS frames a second, scaled to CONNECT_DETECTIONS_WIDTH), and again
   with every frame analysed (a shorter clip). Reported: frames/s, and the clip's length over the time taken
   (above 1: faster than real time).
2. Precision and recall of what ships (the OpenCV detector and the colour stage) on rendered 720p clips whose
   people and vehicles are known: 1 to 3 people (random clothing colours, hat or not and its colour, bag or not,
   walking left or right, 200-320 px tall) and 0 or 1 car per clip, fixed seed. A track matches a person when the
   person's centre is inside its box at its time. Also, if OpenCV's sample `vtest.avi` (Debian's opencv-doc, real
   pedestrians, unlabelled) is present: people found per sampled frame and speed there.
3. Search: 10,000 clips with 12 detections each in one case (and as many in other cases), in connect_bench; the
   search as the page runs it (selector, rows fetched, ledger entry) against the same query's bare SQL through
   psycopg. Target (issue 17): p50 under 100 ms. Building the 240,000 rows takes about a minute once; later runs,
   quick ones included, reuse them.

Progress goes to stderr; the last line of stdout is one JSON object.
"""

import argparse
import io
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _data  # noqa: E402
from _runs import code_commit, single_run_guard  # noqa: E402

REDIS_DB = 19  # this script's own Redis database (bench/_services.py)
CLIPS = 10_000
PER_CLIP = 12
VTEST = os.environ.get("BENCH_VTEST", "/usr/share/doc/opencv-doc/examples/data/vtest.avi")
PALETTE = ("red", "blue", "green", "yellow", "white", "black", "orange", "purple", "grey")
HATS = ("white", "red", "blue", "yellow", "green", "black")


def one_core() -> None:
    import cv2

    os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    cv2.setNumThreads(1)


def speed(seconds: float, every_frame_s: float) -> dict:
    import av
    from django.test import override_settings

    from detections import indexing, synthetic

    rng = random.Random(3)
    figures = [synthetic.Figure(rng.choice(PALETTE), rng.choice(PALETTE), hat="white", bag=True, x=100 + 300 * i,
                                dx=rng.choice((-80, 80)), height=rng.randint(200, 300)) for i in range(3)]
    clip = synthetic.clip_mp4(figures, [synthetic.Vehicle("blue", dx=200)], seconds=seconds, fps=25)
    short = synthetic.clip_mp4(figures, [synthetic.Vehicle("blue", dx=200)], seconds=every_frame_s, fps=25)
    _data.log(f"speed: rendered {seconds:.0f} s of 720p at 25 fps ({len(clip) / 1e6:.1f} MB)")

    def bare():
        started, frames = time.perf_counter(), 0
        with av.open(io.BytesIO(clip)) as container:
            stream = container.streams.video[0]
            for frame in container.decode(stream):
                frame.to_ndarray(format="bgr24")
                frames += 1
        return frames, time.perf_counter() - started

    def indexed(fps, data):
        with override_settings(DETECTIONS_SAMPLE_FPS=fps, DETECTIONS_TIMEOUT_S=3600):
            started = time.perf_counter()
            result = indexing.index_source(io.BytesIO(data))
            return result.frames, time.perf_counter() - started

    from django.conf import settings

    out = {}
    for name, run, length in (("bare_decode", bare, seconds),
                              ("index_sampled", lambda: indexed(settings.DETECTIONS_SAMPLE_FPS, clip), seconds),
                              ("index_every_frame", lambda: indexed(25, short), every_frame_s)):
        frames, took = run()
        out[name] = {"clip_seconds": length, "frames_analysed": frames, "seconds": round(took, 2),
                     "analysed_frames_per_s": round(frames / took, 2),
                     "clip_frames_per_s": round(length * 25 / took, 1), "realtime_x": round(length / took, 2)}
        _data.log(f"speed: {name}: {took:.2f} s, {out[name]['realtime_x']}x real time")
    out["sample_fps"] = settings.DETECTIONS_SAMPLE_FPS
    out["detect_width"] = settings.DETECTIONS_WIDTH
    return out


def labelled_clip(rng: random.Random):
    from detections import synthetic

    people = []
    for i in range(rng.randint(1, 3)):
        dx = rng.choice((-1, 1)) * rng.randint(60, 140)
        height = rng.randint(200, 320)
        people.append(synthetic.Figure(
            rng.choice(PALETTE), rng.choice(PALETTE), hat=rng.choice(HATS) if rng.random() < 0.5 else "",
            bag=rng.random() < 0.5, x=rng.randint(150, 1130) if i else rng.randint(300, 980), dx=dx,
            top=rng.randint(120, 420 - height // 4), height=height, start_s=rng.choice((0.0, 0.5, 1.0))))
    vehicles = [synthetic.Vehicle(rng.choice(PALETTE[:5] + ("grey",)), x=-300 if rng.random() < 0.5 else 1300,
                                  y=rng.randint(440, 560))] if rng.random() < 0.6 else []
    for vehicle in vehicles:
        vehicle.dx = 260.0 if vehicle.x < 0 else -260.0
    return people, vehicles


def _inside(figure, t, item) -> bool:
    from detections.synthetic import Figure

    if not (figure.start_s <= t <= figure.end_s):
        return False
    cx = (figure.x + figure.dx * (t - figure.start_s)) / 1280
    cy = (figure.top + figure.height / 2) / 720 if isinstance(figure, Figure) else (
        figure.y + figure.height / 2) / 720
    return item.box[0] <= cx <= item.box[0] + item.box[2] and item.box[1] <= cy <= item.box[1] + item.box[3]


def _vehicle_inside(vehicle, t, item) -> bool:
    cx = (vehicle.x + vehicle.dx * t + vehicle.width / 2) / 1280
    cy = (vehicle.y + vehicle.height / 2) / 720
    x, y, w, h = item.box
    return x - 0.05 <= cx <= x + w + 0.05 and y <= cy <= y + h


def accuracy(clips: int, seconds: float) -> dict:
    from detections import indexing, synthetic

    rng = random.Random(17)
    tally = {k: [0, 0, 0] for k in ("person", "vehicle")}  # matched tracks, all tracks, truths found
    truths = {"person": 0, "vehicle": 0}
    attrs = {k: [0, 0] for k in ("upper", "lower", "hat_colour", "direction", "vehicle_colour", "vehicle_direction")}
    hat = {"tp": 0, "fp": 0, "fn": 0}
    bag = {"tp": 0, "fp": 0, "fn": 0}
    dark_hats = [0, 0]
    for _n in range(clips):
        people, vehicles = labelled_clip(rng)
        clip = synthetic.clip_mp4(people, vehicles, seconds=seconds, fps=10, seed=rng.randint(0, 99))
        found = indexing.index_source(io.BytesIO(clip)).found
        truths["person"] += len(people)
        truths["vehicle"] += len(vehicles)
        claimed = set()
        for item in found:
            tally[item.kind][1] += 1
            pool = people if item.kind == "person" else vehicles
            test = _inside if item.kind == "person" else _vehicle_inside
            match = next((i for i, truth in enumerate(pool) if (item.kind, i) not in claimed
                          and test(truth, item.t_s, item)), None)
            if match is None:
                continue
            claimed.add((item.kind, match))
            tally[item.kind][0] += 1
            truth = pool[match]
            if item.kind == "vehicle":
                attrs["vehicle_colour"][0] += item.vehicle_colour == truth.colour
                attrs["vehicle_colour"][1] += 1
                attrs["vehicle_direction"][0] += item.direction == ("right" if truth.dx > 0 else "left")
                attrs["vehicle_direction"][1] += 1
                continue
            for name, want, got in (("upper", truth.upper, item.upper_colour), ("lower", truth.lower,
                                                                                 item.lower_colour)):
                attrs[name][0] += want == got
                attrs[name][1] += 1
            attrs["direction"][0] += item.direction == ("right" if truth.dx > 0 else "left")
            attrs["direction"][1] += 1
            visible_hat = bool(truth.hat) and truth.hat not in ("black",)
            if truth.hat == "black":
                dark_hats[1] += 1
                dark_hats[0] += item.hat
            if item.hat and visible_hat:
                hat["tp"] += 1
                attrs["hat_colour"][0] += item.hat_colour == truth.hat
                attrs["hat_colour"][1] += 1
            elif item.hat:
                hat["fp"] += 1
            elif visible_hat:
                hat["fn"] += 1
            if item.bag and truth.bag:
                bag["tp"] += 1
            elif item.bag:
                bag["fp"] += 1
            elif truth.bag:
                bag["fn"] += 1
        for kind in tally:
            tally[kind][2] = len({c for c in claimed if c[0] == kind}) + tally[kind][2]
    _data.log(f"accuracy: {clips} clips, {truths['person']} people, {truths['vehicle']} vehicles")

    def pr(counts):
        tp, fp, fn = counts["tp"], counts["fp"], counts["fn"]
        return {"precision": round(tp / (tp + fp), 3) if tp + fp else None,
                "recall": round(tp / (tp + fn), 3) if tp + fn else None, **counts}

    return {
        "clips": clips, "seconds_each": seconds,
        **{f"{kind}_detection": {"precision": round(t[0] / t[1], 3) if t[1] else None,
                                 "recall": round(t[2] / truths[kind], 3) if truths[kind] else None,
                                 "tracks": t[1], "truths": truths[kind]} for kind, t in tally.items()},
        "attribute_accuracy": {k: round(v[0] / v[1], 3) if v[1] else None for k, v in attrs.items()},
        "hat": pr(hat), "bag": pr(bag), "black_hats_found": f"{dark_hats[0]} of {dark_hats[1]}",
    }


def vtest(limit_s: float) -> dict | None:
    if not Path(VTEST).exists():
        _data.log(f"vtest: {VTEST} not found (apt-get install opencv-doc): skipped")
        return None
    from detections import indexing

    with open(VTEST, "rb") as source:
        counts = []
        started = time.perf_counter()
        detector = __import__("detections.detector", fromlist=["x"]).OpenCVDetector()
        from django.conf import settings

        for t, image in indexing.frames_sampled(source, fps=2, width=settings.DETECTIONS_WIDTH):
            if t > limit_s:
                break
            counts.append(sum(f.kind == "person" for f in detector.detect(image)))
        took = time.perf_counter() - started
    return {"file": VTEST, "seconds_of_video": limit_s, "sampled_frames": len(counts),
            "people_per_frame_mean": round(statistics.fmean(counts), 2), "people_per_frame_max": max(counts),
            "sampled_frames_per_s": round(len(counts) / took, 2)}


def ensure_detections() -> int:
    """One case with CLIPS clips and PER_CLIP detections each, and another case as large; reused when present."""
    from django.contrib.gis.geos import Point
    from django.utils import timezone

    from detections.models import Detection
    from requests_app.models import Clip, Incident

    case, made = Incident.objects.get_or_create(case_number="26-917000", defaults=dict(
        offense_type="Robbery", location=Point(-78.64, 35.78), starts_at=timezone.now(),
        ends_at=timezone.now() + timezone.timedelta(hours=1), owner_summary="bench"))
    if Detection.objects.filter(incident=case).count() == CLIPS * PER_CLIP:
        _data.log("search: reusing the detections")
        return case.pk
    other, _made = Incident.objects.get_or_create(case_number="26-917001", defaults=dict(
        offense_type="Robbery", location=Point(-78.64, 35.78), starts_at=timezone.now(),
        ends_at=timezone.now() + timezone.timedelta(hours=1), owner_summary="bench"))
    Detection.objects.filter(incident__in=(case, other)).delete()
    Clip.objects.filter(incident__in=(case, other)).delete()
    rng = random.Random(5)
    started = time.perf_counter()
    base = timezone.now() - timezone.timedelta(days=2)
    for incident in (case, other):
        clips = Clip.objects.bulk_create([Clip(
            incident=incident, original_name=f"c{i}.mp4", media_format="mov,mp4", size=1, sha256="0" * 64,
            stored_name=f"bench-{incident.pk}-{i}", master_key_id="bench", keep_days_after_close=90,
            uploaded_by="owner", recorded_at=base + timezone.timedelta(seconds=17 * i)) for i in range(CLIPS)],
            batch_size=2000)
        rows = []
        for clip in clips:
            for j in range(PER_CLIP):
                person = j < PER_CLIP * 3 // 4
                rows.append(Detection(
                    clip=clip, incident=incident, kind="person" if person else "vehicle", t_s=j, first_s=j,
                    last_s=j + 2, seen_at=clip.recorded_at + timezone.timedelta(seconds=j), x=0.1, y=0.1, w=0.1,
                    h=0.3, score=1.0, upper_colour=rng.choice(PALETTE) if person else "",
                    lower_colour=rng.choice(PALETTE) if person else "", hat=person and rng.random() < 0.3,
                    hat_colour=rng.choice(HATS) if person else "", bag=person and rng.random() < 0.3,
                    vehicle_type="" if person else "car", vehicle_colour="" if person else rng.choice(PALETTE),
                    direction=rng.choice(("left", "right", "toward", "away"))))
        Detection.objects.bulk_create(rows, batch_size=5000)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) detections_detection")
    _data.log(f"search: made {2 * CLIPS:,} clips, {2 * CLIPS * PER_CLIP:,} detections in "
              f"{time.perf_counter() - started:.1f} s")
    return case.pk


def search(samples: int, case_id: int) -> dict:
    import psycopg
    from django.contrib.auth.models import User
    from django.utils import timezone

    from detections import selectors, services
    from requests_app.models import Incident

    incident = Incident.objects.get(pk=case_id)
    user, _made = User.objects.get_or_create(username="bench-detections", defaults={"is_staff": True})
    now = timezone.now()
    asks = [selectors.Criteria(hat=True, hat_colour="white", bag=True),
            selectors.Criteria(upper_colour="red", lower_colour="blue"),
            selectors.Criteria(kind="vehicle", vehicle_colour="blue", direction="left"),
            selectors.Criteria(upper_colour="black", since=now - timezone.timedelta(days=2, hours=-6),
                               until=now - timezone.timedelta(days=1))]
    bare_conn = psycopg.connect(_data.DATABASE_URL.replace("postgis://", "postgresql://"), autocommit=True)

    def page(criteria):
        rows = list(selectors.detections_matching(incident=incident, criteria=criteria))
        services.search_record(user=user, incident=incident, reason="benchmark", criteria=criteria.as_ledger(),
                               results=len(rows))
        return len(rows)

    def bare(criteria):
        sql, params = selectors.detections_matching(incident=incident, criteria=criteria).query.sql_with_params()
        return len(bare_conn.execute(sql, params).fetchall())

    times = {"search": [], "bare": []}
    found = {}
    for i in range(samples + 4):
        criteria = asks[i % len(asks)]
        for name, run in (("search", page), ("bare", bare))[:: 1 if i % 2 else -1]:
            started = time.perf_counter()
            found[f"{name}-{i % len(asks)}"] = run(criteria)
            if i >= 4:
                times[name].append(time.perf_counter() - started)
    bare_conn.close()
    result = {name: _data.percentiles(values) for name, values in times.items()}
    return {**result, "ratio_p50": _data.ratio(result["search"]["p50_ms"], result["bare"]["p50_ms"]),
            "clips_in_case": CLIPS, "detections_in_case": CLIPS * PER_CLIP,
            "rows_returned": {k: v for k, v in found.items() if k.startswith("search")},
            "target_p50_ms": 100, "met": result["search"]["p50_ms"] < 100}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    guard = single_run_guard("index_clips")
    _data.setup_django(REDIS_DB)
    one_core()
    started = time.perf_counter()
    summary = {"benchmark": "index_clips", "quick": args.quick, "commit": code_commit()}
    summary["speed"] = speed(*((4.0, 1.0) if args.quick else (30.0, 4.0)))
    summary["accuracy"] = accuracy(5 if args.quick else 40, 3.0 if args.quick else 6.0)
    summary["vtest"] = vtest(3.0 if args.quick else 60.0)
    case_id = ensure_detections()
    summary["search"] = search(40 if args.quick else 200, case_id)
    summary["machine"] = _data.machine()
    summary["seconds"] = round(time.perf_counter() - started, 1)
    _data.log(f"done in {summary['seconds']} s")
    guard.close()
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
