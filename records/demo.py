"""Demo footage for a records release: a street scene with a licence plate rendered by Pillow, so the demo shows a
plate found and blurred (no real person's face ships with connect)."""

import io

import av
import numpy as np
from PIL import Image, ImageDraw, ImageFont


def plate_scene_mp4(frames: int = 24, size: tuple[int, int] = (640, 360)) -> bytes:
    width, height = size
    scene = Image.new("RGB", size, (90, 110, 120))
    draw = ImageDraw.Draw(scene)
    draw.rectangle([0, int(height * 0.7), width, height], fill=(60, 60, 64))  # the road
    font = ImageFont.load_default(size=56)
    left, top, right, bottom = draw.textbbox((0, 0), "A123BC77", font=font)
    x, y, pad = 300, 230, 14
    draw.rectangle([x, y, x + right - left + 2 * pad, y + bottom - top + 2 * pad], fill="white", outline="black",
                   width=3)
    draw.text((x + pad - left, y + pad - top), "A123BC77", fill="black", font=font)
    image = np.asarray(scene)
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=12)  # H.264, as cameras record: a browser plays it
        stream.options = {"preset": "veryfast", "crf": "18"}
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for _ in range(frames):
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buffer.getvalue()
