"""Clips with known regions for redaction tests, made here: a real face (a crop of NASA's public-domain portrait
of astronaut Eileen Collins, as scikit-image ships it in skimage/data/astronaut.png) and a licence plate rendered
with Pillow, pasted on a plain street-grey background at known places."""

import io
from pathlib import Path

import av
import numpy as np
from PIL import Image, ImageDraw, ImageFont

WIDTH, HEIGHT = 640, 360
FACE_BOX = (40, 60, 120, 120)  # x, y, w, h of the pasted face photo
BACKGROUND = (90, 110, 120)


def plate_image() -> Image.Image:
    font = ImageFont.load_default(size=56)
    probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    left, top, right, bottom = probe.textbbox((0, 0), "A123BC77", font=font)
    pad = 14
    plate = Image.new("RGB", (right - left + 2 * pad, bottom - top + 2 * pad), "white")
    draw = ImageDraw.Draw(plate)
    draw.rectangle([0, 0, plate.width - 1, plate.height - 1], outline="black", width=3)
    draw.text((pad - left, pad - top), "A123BC77", fill="black", font=font)
    return plate


PLATE_AT = (300, 230)


def plate_box() -> tuple[int, int, int, int]:
    plate = plate_image()
    return (*PLATE_AT, plate.width, plate.height)


def scene(*, face: bool = True, plate: bool = True) -> np.ndarray:
    """One RGB frame: the face top left, the plate bottom right, plain grey elsewhere."""
    frame = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    if face:
        photo = Image.open(Path(__file__).with_name("face.jpg")).convert("RGB").resize(FACE_BOX[2:])
        frame.paste(photo, FACE_BOX[:2])
    if plate:
        frame.paste(plate_image(), PLATE_AT)
    return np.asarray(frame)


def scene_mp4(frames: int = 12, **kwargs) -> bytes:
    """A short MP4 (MPEG-4 part 2, near-lossless) of the scene, unchanged frame to frame."""
    image = scene(**kwargs)
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4") as container:
        stream = container.add_stream("mpeg4", rate=12)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        stream.options = {"qscale": "2"}
        for _ in range(frames):
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buffer.getvalue()


def frames_of(data: bytes) -> list[np.ndarray]:
    with av.open(io.BytesIO(data)) as container:
        return [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]
