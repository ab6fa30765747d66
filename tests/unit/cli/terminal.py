"""The command in this process with stdout and stderr on one pseudo-terminal, for tests."""

from __future__ import annotations

import contextlib
import fcntl
import os
import pty
import select
import struct
import sys
import termios

from connector.cli.main import main


def on_a_terminal(argv: list[str]) -> tuple[int, str]:
    """Run `mixpanel-connector ARGV` with stdout and stderr on one 200-column terminal.

    Returns the exit code and what the terminal showed, in order.
    """
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 200, 0, 0))
    shown = b""
    with os.fdopen(follower, "w", closefd=True) as terminal:
        with contextlib.redirect_stderr(terminal), contextlib.redirect_stdout(terminal):
            assert sys.stderr.isatty()
            code = main(argv)
        terminal.flush()
        while select.select([leader], [], [], 0.2)[0]:
            shown += os.read(leader, 1 << 20)
    os.close(leader)
    return code, shown.decode("utf-8", "replace")
