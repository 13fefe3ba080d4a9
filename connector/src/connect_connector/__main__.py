"""``connect-connector`` (or ``python -m connect_connector``): the command line. See ``--help``."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import re
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path

from . import __version__
from .frames import Limits
from .link import Connector, websocket_url
from .sources import BadSource, SourceError, open_source

log = logging.getLogger("connect_connector")
ENV_PREFIX = "CONNECTOR_"  # CONNECTOR_SERVER, CONNECTOR_TOKEN, ...: one variable for each option

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
  connect-connector --server https://cameras.example.gov \\
      --camera 0b7e9a3e-5c1d-4f7a-9d8e-2f4c6a1b3d5e --token-file /etc/connect/camera.token \\
      --source rtsp://viewer:secret@192.168.1.20:554/Streaming/Channels/102

environment:
  every option can come from a variable instead: CONNECTOR_SERVER, CONNECTOR_CAMERA, CONNECTOR_TOKEN,
  CONNECTOR_TOKEN_FILE, CONNECTOR_SOURCE, CONNECTOR_WIDTH, CONNECTOR_FPS, CONNECTOR_QUALITY (the command line
  wins). Command lines are visible to every user of the computer, so give the token and a source address
  with a password in the environment (systemd's EnvironmentFile) or a file.

while nobody watches, a test pattern, file or snapshot URL is not read at all; an RTSP or MJPEG camera stays
connected but its data is dropped without decoding, so a viewer gets a picture within a second or two.

a camera that is off or unreachable is tried again every few seconds (at most 30 s apart); a camera that
refuses the user name or password only every 5 minutes, so that it does not lock the account.

exit status: 0 when stopped by Ctrl-C or SIGTERM, 2 for a bad option or a source that can never work (no
such file, an unknown kind of source).
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


def env_name(option: str) -> str:
    """``--token-file`` -> ``CONNECTOR_TOKEN_FILE``."""
    return ENV_PREFIX + option.removeprefix("--").replace("-", "_").upper()


def _one_of(*choices: str):
    def parse(text: str) -> str:
        if text not in choices:
            raise argparse.ArgumentTypeError(f"{text!r} is not one of {', '.join(choices)}")
        return text

    return parse


def _from_env(option: str, kind=str):
    """The option's environment variable, parsed like the command line would (so junk is refused with the
    variable's name); None when it is unset or empty."""
    text = os.environ.get(env_name(option), "").strip()
    if not text:
        return None
    try:
        return kind(text)
    except argparse.ArgumentTypeError as exc:
        print(f"connect-connector: error: {env_name(option)}: {exc}", file=sys.stderr)
        raise SystemExit(2) from None  # as argparse does for a bad option


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="connect-connector", description=DESCRIPTION, epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")

    def option(name: str, kind=str, default=None, **kwargs):
        value = _from_env(name, kind)
        parser.add_argument(name, type=kind, default=default if value is None else value,
                            required=value is None and default is None, **kwargs)

    option("--server", metavar="URL", help="address of the connect server, e.g. https://cameras.example.gov")
    option("--camera", metavar="CODE",
           help="the camera's code, as shown where the owner created the connector token")
    token = parser.add_mutually_exclusive_group()
    token.add_argument("--token", metavar="TOKEN",
                       help="the connector token for this camera; other users of this computer can see "
                            "command lines, so prefer --token-file or CONNECTOR_TOKEN")
    token.add_argument("--token-file", metavar="PATH", type=Path,
                       help="read the token from this file (readable only by the account that runs the connector)")
    option("--source", metavar="SRC",
           help="where the picture comes from: test, rtsp://..., http(s)://... or a file (see below)")
    option("--width", _bounded(int, 16, 3840, "--width"), 640, metavar="PIXELS",
           help="largest picture width sent; smaller pictures are not enlarged (default 640)")
    option("--fps", _bounded(float, 0.1, 30, "--fps"), 10.0, metavar="N",
           help="most frames a second sent while someone watches (default 10)")
    option("--quality", _bounded(int, 10, 95, "--quality"), 70, metavar="Q",
           help="JPEG quality, 10-95 (default 70); lower uses less bandwidth")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more detail")
    option("--log-format", _one_of("text", "json"), "text",
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
    """From --token or --token-file, else from CONNECTOR_TOKEN or CONNECTOR_TOKEN_FILE."""
    token, path, where = args.token, args.token_file, "--token"
    if token is None and path is None:
        token, where = _from_env("--token"), env_name("--token")
        path = None if token is not None else _from_env("--token-file", Path)
    if path is not None:
        where = "--token-file" if args.token_file is not None else env_name("--token-file")
        try:
            token = path.read_text().strip()
        except OSError as exc:
            parser.error(f"{where} {path}: {exc.strerror}")
    if token is None:
        parser.error(f"give the camera's token: --token-file PATH, or {env_name('--token')} in the environment")
    if not token or any(c.isspace() for c in token):
        parser.error(f"{where}: the token is empty or contains spaces")
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

    failure = None
    try:
        source = open_source(args.source, camera=camera)
        log.info("connect-connector %s: opening the source %s", __version__, source.label)
        source.open()
    except (BadSource, ValueError) as exc:
        log.error("cannot use --source: %s", exc)
        return 2
    except SourceError as exc:  # the camera is off, still booting, or refuses the password: keep trying
        failure = exc
        log.info("the source does not work yet; connecting to %s as camera %s all the same", args.server, camera)
    else:
        log.info("the source works; connecting to %s as camera %s", args.server, camera)

    connector = Connector(server=args.server, camera=camera, token=token, source=source,
                          limits=Limits(fps=args.fps, width=args.width, quality=args.quality), source_error=failure)
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
