"""The command's exit codes, its one-line error text and its quiet exit on a closed pipe."""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable, Mapping
from typing import Any

from ..errors import ConnectorError, InputError

#: Everything was accepted.
EXIT_OK = 0
#: Any other failure: the API or the network answered badly, a spec or budget store is broken.
EXIT_FAILED = 1
#: Bad input (an option, an input, a file, a connection field); nothing was sent.
EXIT_BAD_INPUT = 2
#: The call finished, but the checks or the API refused some of its records.
EXIT_REFUSED = 3
#: Ctrl-C (128 + SIGINT), as shells report it.
EXIT_INTERRUPTED = 130
#: The reader of standard output went away (`| head`): 128 + SIGPIPE, as Unix tools report it.
EXIT_CLOSED_PIPE = 141

EXIT_CODES_HELP = (
    "exit codes: 0 everything accepted; 1 other failures (the API or the network answered "
    "badly); 2 bad input, nothing sent; 3 some records were refused (a one-line summary goes "
    "to stderr, the result lists them); 130 interrupted; 141 standard output was closed early "
    "(e.g. `| head`), quietly"
)


def one_line(text: str) -> str:
    """A multi-line error as one line: a heading, then its items joined by "; "."""
    parts = [line.strip().lstrip("- ").strip() for line in text.splitlines() if line.strip()]
    if not parts:
        return ""
    head, items = parts[0], parts[1:]
    if not items:
        return head
    joined = "; ".join(item.rstrip(".") for item in items[:-1])
    joined = f"{joined}; {items[-1]}" if joined else items[-1]
    return f"{head} {joined}" if head.endswith(":") else f"{head.rstrip('.')}; {joined}"


def report_error(exc: ConnectorError) -> int:
    """Print the error as one line on stderr; return its exit code."""
    # One line, so a workflow log or a shell pipeline shows the whole error at once.
    print(f"error: {one_line(str(exc))}", file=sys.stderr)
    return EXIT_BAD_INPUT if isinstance(exc, InputError) else EXIT_FAILED


def report_unexpected(exc: Exception, verbose: bool) -> int:
    """A failure that is not one of the connector's errors: one line, the traceback with -v.

    Its message is not printed without -v: nothing vouches that it holds no secret.
    """
    if verbose:
        traceback.print_exception(exc, file=sys.stderr)
    print(
        f"error: unexpected failure ({type(exc).__name__}); run with -v for the traceback",
        file=sys.stderr,
    )
    return EXIT_FAILED


def refused_summary(action: str, result: Any) -> str | None:
    """One line when a result says some records were refused (`records_failed`), else None."""
    data = result.get("data") if isinstance(result, Mapping) else None
    if not isinstance(data, Mapping):
        return None
    failed = data.get("records_failed")
    if not isinstance(failed, int) or isinstance(failed, bool) or failed <= 0:
        return None
    imported = data.get("records_imported")
    counted = f", {imported:,} imported" if isinstance(imported, int) else ""
    first = next(
        (
            entry.get("index")
            for entry in data.get("failed_records") or ()
            if isinstance(entry, Mapping) and isinstance(entry.get("index"), int)
        ),
        None,
    )
    where = f"; the first at index {first}" if first is not None else ""
    return (
        f"{action}: {failed:,} record(s) refused{counted} "
        f"(failed_records in the result lists them{where})"
    )


def exit_for_result(action: str, result: Any) -> int:
    """EXIT_REFUSED, with its summary on stderr, when some records were refused; else EXIT_OK."""
    summary = refused_summary(action, result)
    if summary is None:
        return EXIT_OK
    print(f"refused: {summary}", file=sys.stderr)
    return EXIT_REFUSED


def guarded(run: Callable[[], int]) -> int:
    """Run the command; a closed standard output or Ctrl-C ends it quietly with its code.

    The closed pipe follows the recipe of Python's `signal` docs: standard output is pointed
    at /dev/null so that the interpreter's final flush cannot fail again.
    """
    try:
        try:
            code = run()
        except SystemExit as exc:  # argparse: --help, or a usage error (exit 2)
            code = _exit_code(exc)
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_CLOSED_PIPE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def _exit_code(exc: SystemExit) -> int:
    if exc.code is None or isinstance(exc.code, int):
        return int(exc.code or 0)
    print(exc.code, file=sys.stderr)
    return EXIT_FAILED


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no real file descriptor (a test's captured stream)
        pass
