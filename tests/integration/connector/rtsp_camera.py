"""An IP camera for the tests: GStreamer's RTSP server (Debian's gir1.2-gst-rtsp-server-1.0) serving H.264 from a
moving test picture, optionally behind a user name and password (digest, as most cameras ask).

Run by Debian's own python3, which has the GObject bindings (python3-gi) the project's virtualenv lacks:

    /usr/bin/python3 rtsp_camera.py --port 8554 [--user viewer --password secret] [--pattern red]

It prints "ready rtsp://127.0.0.1:PORT/stream" once it listens, then "client" for every connection a client
opens, so a test can count how often the connector knocks. SIGTERM or SIGINT stops it.
"""

import argparse
import signal
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtsp", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtsp, GstRtspServer  # noqa: E402 - after require_version

PIPELINE = ("( videotestsrc is-live=true pattern={pattern} "
            "! video/x-raw,width={width},height={height},framerate={fps}/1 "
            "! x264enc tune=zerolatency speed-preset=ultrafast key-int-max={fps} bitrate=500 "
            "! rtph264pay name=pay0 pt=96 config-interval=1 )")


def say(text: str) -> None:
    print(text, flush=True)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", default="/stream")
    parser.add_argument("--user")
    parser.add_argument("--password")
    parser.add_argument("--width", type=int, default=320)
    parser.add_argument("--height", type=int, default=240)
    parser.add_argument("--fps", type=int, default=10)
    parser.add_argument("--pattern", default="ball", help="videotestsrc's: ball, red, blue, smpte, ...")
    args = parser.parse_args()
    Gst.init(None)

    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(args.port))
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(PIPELINE.format(pattern=args.pattern, width=args.width, height=args.height, fps=args.fps))
    factory.set_shared(True)
    if args.user:
        auth = GstRtspServer.RTSPAuth()
        auth.set_supported_methods(GstRtsp.RTSPAuthMethod.DIGEST)
        token = GstRtspServer.RTSPToken()
        token.set_string(GstRtspServer.RTSP_TOKEN_MEDIA_FACTORY_ROLE, "viewer")
        auth.add_digest(args.user, args.password or "", token)
        server.set_auth(auth)
        permissions = GstRtspServer.RTSPPermissions()
        permissions.add_permission_for_role("viewer", GstRtspServer.RTSP_PERM_MEDIA_FACTORY_ACCESS, True)
        permissions.add_permission_for_role("viewer", GstRtspServer.RTSP_PERM_MEDIA_FACTORY_CONSTRUCT, True)
        factory.set_permissions(permissions)
    server.get_mount_points().add_factory(args.path, factory)
    server.connect("client-connected", lambda *_: say("client"))
    if server.attach(None) == 0:
        say(f"cannot listen on 127.0.0.1:{args.port}")
        return 1

    loop = GLib.MainLoop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, sig, loop.quit)
    say(f"ready rtsp://127.0.0.1:{args.port}{args.path}")
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
