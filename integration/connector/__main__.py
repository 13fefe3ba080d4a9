"""``python -m integration.connector``: the same program as ``connect-connector``."""

import sys

from connect_connector.__main__ import main

if __name__ == "__main__":
    sys.exit(main())
