"""The camera connector of connect: a small program run at a camera owner's site that sends the camera's picture
to connect while, and only while, an analyst watches. Run it as ``connect-connector --help`` (or ``python -m
connect_connector``); docs/CONNECTOR.md in connect's repository is the guide for installing it.

It imports neither Django nor any other part of connect, only PyAV, Pillow and websockets, so it runs on any
machine that can reach the camera and the server; connect's server runs this same package for its demo cameras.
Modules: ``sources`` (test pattern, files, RTSP, MJPEG, snapshot URLs), ``frames`` (limits, JPEG encoding,
the bounded queue), ``capture`` (the thread reading the source), ``link`` (the websocket protocol and
reconnection), ``__main__`` (the command line).
"""

from importlib import metadata

try:
    __version__ = metadata.version("connect-connector")
except metadata.PackageNotFoundError:  # run from a source tree that was never installed
    __version__ = "unknown"
