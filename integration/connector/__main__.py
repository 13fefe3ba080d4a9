"""``python -m integration.connector``: the command line. See ``--help``."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import re
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path

from .frames import Limits
from .link import Connector, websocket_url
from .sources import SourceError, open_source

log = logging.getLogger("integration.connector")

DESCRIPTION = """\
Sends the live picture of one camera to a connect server, for the crime analysts the owner shares it with.
It connects out to the server (nothing needs to reach in through your firewall) and sends pictures only
while an analyst is watching, within the limits the owner and the server set. It keeps reconnecting
when the network or the server goes away. Stop it with Ctrl-C (or SIGTERM from systemd).
"""

EPILOG = """\
sources:
  test, test:motion, test:bars, test:grid   a built-in test picture with the camera code and the time
  rtsp://user:password@192.0.2.10:554/stream  an IP camera or recorder over RTSP (read over TCP)
  http://192.0.2.10/video.mjpg                an MJPEG stream, or a JPEG snapshot URL read at --fps
  /path/to/video.mp4                          a video file, played in a loop (for trying things out)

example:
  python -m integration.connector --server https://cameras.example.gov \\
      --camera 0b7e9a3e-5c1d-4f7a-9d8e-2f4c6a1b3d5e --token-file /etc/connect/camera.token \\
      --source rtsp://viewer:secret@192.168.1.20:554/Streaming/Channels/102

while nobody watches, a test pattern, file or snapshot URL is not read at all; an RTSP or MJPEG camera stays
connected but its data is dropped without decoding, so a viewer gets a picture within a second or two.

exit status: 0 when stopped by Ctrl-C or SIGTERM, 2 for a bad option or a source that cannot be read at
start-up (run it under systemd with Restart=on-failure to ride out a camera that is still booting).
"""


def _bounded(kind, low, high, what):
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{what} must be between {low} and {high}, not {text}")
        return value

    return parse


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m integration.connector", description=DESCRIPTION, epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", required=True, metavar="URL",
                        help="address of the connect server, e.g. https://cameras.example.gov")
    parser.add_argument("--camera", required=True, metavar="CODE",
                        help="the camera's code, as shown where the owner created the connector token")
    token = parser.add_mutually_exclusive_group(required=True)
    token.add_argument("--token", metavar="TOKEN",
                       help="the connector token for this camera; other users of this computer can see "
                            "command lines, so prefer --token-file")
    token.add_argument("--token-file", metavar="PATH", type=Path,
                       help="read the token from this file (readable only by the account that runs the connector)")
    parser.add_argument("--source", required=True, metavar="SRC",
                        help="where the picture comes from: test, rtsp://..., http(s)://... or a file (see below)")
    parser.add_argument("--width", type=_bounded(int, 16, 3840, "--width"), default=640, metavar="PIXELS",
                        help="largest picture width sent; smaller pictures are not enlarged (default 640)")
    parser.add_argument("--fps", type=_bounded(float, 0.1, 30, "--fps"), default=10.0, metavar="N",
                        help="most frames a second sent while someone watches (default 10)")
    parser.add_argument("--quality", type=_bounded(int, 10, 95, "--quality"), default=70, metavar="Q",
                        help="JPEG quality, 10-95 (default 70); lower uses less bandwidth")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more detail")
    parser.add_argument("--log-format", choices=("text", "json"), default="text",
                        help="text (default) or json: one JSON object a line, for a log collector")
    return parser


class _Redacting(logging.Formatter):
    """Never lets the token reach the log, whatever a library puts in a message."""

    def __init__(self, secret: str):
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")
        self.secret = secret

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        return text.replace(self.secret, "[token]") if self.secret else text


class _RedactingJson(_Redacting):
    """The same, as one JSON object a line (time, level, logger, message, exception), like the server's logs."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {"time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
                 "level": record.levelname.lower(), "logger": record.name, "message": record.getMessage()}
        if record.exc_info:
            entry["exception"] = {"type": record.exc_info[0].__name__,
                                  "traceback": self.formatException(record.exc_info)}
        text = json.dumps(entry, ensure_ascii=False, default=str)
        return text.replace(self.secret, "[token]") if self.secret else text


def _setup_logging(verbose: bool, token: str, log_format: str = "text") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_RedactingJson(token) if log_format == "json" else _Redacting(token))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    # websockets logs every header (the Authorization header too) and every frame at DEBUG.
    logging.getLogger("websockets").setLevel(logging.INFO if verbose else logging.WARNING)
    logging.getLogger("libav").setLevel(logging.ERROR)


def _read_token(args, parser) -> str:
    if args.token_file is None:
        token = args.token
    else:
        try:
            token = args.token_file.read_text().strip()
        except OSError as exc:
            parser.error(f"--token-file {args.token_file}: {exc.strerror}")
    if not token or any(c.isspace() for c in token):
        parser.error("the token is empty or contains spaces")
    return token


def main(argv: list[str] | None = None) -> int:
    try:
        return _main(argv)
    except KeyboardInterrupt:  # Ctrl-C before the connector was running, e.g. while a camera did not answer
        return 130


def _main(argv: list[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    token = _read_token(args, parser)
    _setup_logging(args.verbose, token, args.log_format)
    camera = args.camera.strip()
    if not re.fullmatch(r"[A-Za-z0-9_-]+", camera):
        parser.error("--camera: a camera code has only letters, digits, '-' and '_'")
    try:
        websocket_url(args.server, camera)
    except ValueError as exc:
        parser.error(f"--server: {exc}")

    try:
        source = open_source(args.source, camera=camera)
        log.info("opening the source %s", source.label)
        source.open()
    except (SourceError, ValueError) as exc:
        log.error("cannot use --source: %s", exc)
        return 2
    log.info("the source works; connecting to %s as camera %s", args.server, camera)

    connector = Connector(server=args.server, camera=camera, token=token, source=source,
                          limits=Limits(fps=args.fps, width=args.width, quality=args.quality))
    asyncio.run(_run(connector))
    return 0


async def _run(connector: Connector) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, _on_signal, sig, stop)
    await connector.run(stop)


def _on_signal(sig: signal.Signals, stop: asyncio.Event) -> None:
    log.info("%s: stopping", signal.Signals(sig).name)
    stop.set()


if __name__ == "__main__":
    sys.exit(main())
