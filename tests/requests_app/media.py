"""Real media made with PyAV for upload tests."""

import io

import av


def tiny_mp4(frames: int = 24, size: tuple[int, int] = (64, 48)) -> bytes:
    width, height = size
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4") as container:
        stream = container.add_stream("mpeg4", rate=24)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for i in range(frames):
            frame = av.VideoFrame(width, height, "yuv420p")
            for plane in frame.planes:
                plane.update(bytes([(i * 9) % 256]) * plane.buffer_size)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buffer.getvalue()


def tiny_jpeg() -> bytes:
    frame = av.VideoFrame(32, 24, "yuvj420p")
    for plane in frame.planes:
        plane.update(bytes([128]) * plane.buffer_size)
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="image2pipe") as container:
        stream = container.add_stream("mjpeg", rate=1)
        stream.width, stream.height, stream.pix_fmt = 32, 24, "yuvj420p"
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buffer.getvalue()


def padded_mp4(total: int) -> bytes:
    """A playable MP4 of `total` bytes: tiny_mp4 and a 'free' box of random bytes (so any 64-byte run of it is
    unique, and a scan of the disk for plaintext finds it)."""
    import os
    import struct

    video = tiny_mp4()
    padding = total - len(video) - 8
    return video + struct.pack(">I", padding + 8) + b"free" + os.urandom(padding)
