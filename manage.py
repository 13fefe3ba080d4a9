#!/usr/bin/env python
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "connect.settings")
    from common.change_history import command_line

    command_line(sys.argv)
