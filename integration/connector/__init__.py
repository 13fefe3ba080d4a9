"""The camera connector: a small program run at a camera owner's site that sends the camera's picture to
connect while, and only while, an analyst watches. Run it with ``python -m integration.connector --help``.

It imports neither Django nor any other part of connect, only PyAV, Pillow and websockets, so it runs on any
machine that can reach the camera and the server. Modules: ``sources`` (test pattern, files, RTSP, MJPEG,
snapshot URLs), ``frames`` (limits, JPEG encoding, the bounded queue), ``capture`` (the thread reading the
source), ``link`` (the websocket protocol and reconnection), ``__main__`` (the command line).
"""
