"""The mail server of the several-machines test, as a process of its own: connect's demo sink (one .eml file per
accepted message) that can hold one message without answering, so a worker can be killed while it waits.

    python -m tests.scaleout.smtp_counter --port P --dir D [--hold-to ADDRESS]

With --hold-to, the first message to ADDRESS is held: the file D/holding exists while it waits, and that message is
never accepted (the worker is killed meanwhile; were it not, it would get a 451 after ten minutes). Later messages
to ADDRESS are accepted as any other.
"""

import argparse
import asyncio
from pathlib import Path

from aiosmtpd.controller import Controller

from connect.mailsink import MaildirHandler

HOLD_S = 600


class HoldingHandler(MaildirHandler):
    def __init__(self, directory: Path, hold_to: str):
        super().__init__(directory)
        self.hold_to, self.held = hold_to.lower(), False

    async def handle_DATA(self, server, session, envelope):
        if not self.held and self.hold_to in (address.lower() for address in envelope.rcpt_tos):
            self.held = True
            (self.directory / "holding").write_text(str(session.peer[1]))
            await asyncio.sleep(HOLD_S)
            return "451 4.3.0 Held too long"
        return await super().handle_DATA(server, session, envelope)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", required=True)
    parser.add_argument("--hold-to", default="")
    args = parser.parse_args()
    controller = Controller(HoldingHandler(Path(args.dir), args.hold_to), hostname="127.0.0.1", port=args.port)
    controller.start()
    print("ready", flush=True)
    try:
        asyncio.run(asyncio.Event().wait())
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
