"""Rendered street scenes with known people and vehicles, for the tests, the benchmark and the demo's clip.

Figures are drawn in a person's proportions (head, shoulders, arms, legs) so OpenCV's HOG detector finds them as
it finds people; each carries known clothing colours, hat and bag, and walks a known way. Vehicles are boxes with
windows and wheels, moving. No face is drawn: a head is a plain ellipse."""

import io
from dataclasses import dataclass

import av
import cv2
import numpy as np

BGR = {"red": (40, 40, 200), "blue": (190, 80, 30), "green": (50, 150, 40), "yellow": (40, 200, 220),
       "white": (245, 245, 245), "black": (25, 25, 25), "grey": (128, 128, 128), "orange": (20, 120, 235),
       "purple": (140, 40, 120), "brown": (30, 60, 110), "pink": (180, 130, 240)}
SKIN = (110, 140, 180)


@dataclass
class Figure:
    upper: str
    lower: str
    hat: str = ""  # colour of the hat, or none
    bag: bool = False
    x: float = 300  # the centre at the first frame, in 1280-wide pixels
    top: float = 200
    height: float = 240
    dx: float = 0.0  # pixels per second
    dy: float = 0.0
    start_s: float = 0.0
    end_s: float = 1e9


@dataclass
class Vehicle:
    colour: str
    x: float = -300
    y: float = 470
    width: float = 300
    height: float = 120
    dx: float = 250.0
    start_s: float = 0.0
    end_s: float = 1e9


def draw_figure(img: np.ndarray, figure: Figure, cx: float, top: float) -> None:
    s = figure.height / 100.0

    def poly(points):
        return np.array([[cx + px * s, top + py * s] for px, py in points], np.int32)

    lower, upper = BGR[figure.lower], BGR[figure.upper]
    cv2.fillPoly(img, [poly([(-9, 50), (-1, 50), (-2, 98), (-10, 98)])], lower)
    cv2.fillPoly(img, [poly([(1, 50), (9, 50), (10, 98), (2, 98)])], lower)
    cv2.fillPoly(img, [poly([(-7, 14), (7, 14), (12, 17), (13, 22), (10, 52), (-10, 52), (-13, 22), (-12, 17)])], upper)
    cv2.fillPoly(img, [poly([(-13, 18), (-9, 20), (-12, 48), (-16, 47)])], upper)
    cv2.fillPoly(img, [poly([(13, 18), (9, 20), (12, 48), (16, 47)])], upper)
    cv2.ellipse(img, (int(cx), int(top + 8 * s)), (int(5 * s), int(6.5 * s)), 0, 0, 360, SKIN, -1)
    cv2.rectangle(img, (int(cx - 2 * s), int(top + 13 * s)), (int(cx + 2 * s), int(top + 15 * s)), SKIN, -1)
    if figure.hat:
        cv2.ellipse(img, (int(cx), int(top + 4 * s)), (int(6 * s), int(4 * s)), 0, 180, 360, BGR[figure.hat], -1)
        brim = ((int(cx - 6 * s), int(top + 3 * s)), (int(cx + 6 * s), int(top + 5 * s)))
        cv2.rectangle(img, *brim, BGR[figure.hat], -1)
    if figure.bag:
        cv2.fillPoly(img, [poly([(10, 18), (17, 20), (17, 40), (10, 40)])], BGR["black"])


def draw_vehicle(img: np.ndarray, vehicle: Vehicle, x: float) -> None:
    y, w, h = vehicle.y, vehicle.width, vehicle.height
    body = BGR[vehicle.colour]
    cv2.rectangle(img, (int(x), int(y + h * 0.35)), (int(x + w), int(y + h * 0.85)), body, -1)
    cv2.rectangle(img, (int(x + w * 0.2), int(y)), (int(x + w * 0.75), int(y + h * 0.4)), body, -1)
    cv2.rectangle(img, (int(x + w * 0.25), int(y + h * 0.06)), (int(x + w * 0.45), int(y + h * 0.33)), (70, 60, 50), -1)
    cv2.rectangle(img, (int(x + w * 0.5), int(y + h * 0.06)), (int(x + w * 0.7), int(y + h * 0.33)), (70, 60, 50), -1)
    for wheel in (0.2, 0.8):
        cv2.circle(img, (int(x + w * wheel), int(y + h * 0.85)), int(h * 0.15), (20, 20, 20), -1)


def background(width: int = 1280, height: int = 720, seed: int = 0) -> np.ndarray:
    """A plain street: wall above, pavement below, with a little noise as a camera has."""
    rng = np.random.default_rng(seed)
    img = np.empty((height, width, 3), np.uint8)
    img[: height * 5 // 8] = (150, 145, 140)
    img[height * 5 // 8:] = (95, 100, 105)
    noise = rng.normal(0, 3, img.shape)
    return np.clip(img + noise, 0, 255).astype(np.uint8)


def frame_at(t: float, figures, vehicles, base: np.ndarray) -> np.ndarray:
    img = base.copy()
    scale = base.shape[1] / 1280
    for vehicle in vehicles:
        if vehicle.start_s <= t <= vehicle.end_s:
            scaled = Vehicle(vehicle.colour, 0, vehicle.y * scale, vehicle.width * scale, vehicle.height * scale)
            draw_vehicle(img, scaled, (vehicle.x + vehicle.dx * (t - vehicle.start_s)) * scale)
    for figure in figures:
        if figure.start_s <= t <= figure.end_s:
            moved = Figure(**{**figure.__dict__, "height": figure.height * scale})
            draw_figure(img, moved, (figure.x + figure.dx * (t - figure.start_s)) * scale,
                        (figure.top + figure.dy * (t - figure.start_s)) * scale)
    return cv2.GaussianBlur(img, (3, 3), 0)


def clip_mp4(figures, vehicles=(), *, seconds: float = 4.0, fps: int = 10, size=(1280, 720), seed: int = 0) -> bytes:
    width, height = size
    base = background(width, height, seed)
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=fps)  # H.264, as cameras record: a browser plays it
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "veryfast", "crf": "18"}
        for i in range(int(seconds * fps)):
            image = frame_at(i / fps, figures, vehicles, base)
            frame = av.VideoFrame.from_ndarray(image, format="bgr24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buffer.getvalue()


def still_jpeg(figures, *, size=(1280, 720), seed: int = 0) -> bytes:
    image = frame_at(0.0, figures, (), background(*size, seed))
    ok, jpeg = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 92])
    assert ok
    return jpeg.tobytes()
