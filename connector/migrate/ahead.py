"""The next window exported while the current one is imported: one window ahead, in a thread.

The two halves of a copy then overlap, so a copy takes about as long as its slower half. At
most two windows are held (the one being imported and the one fetched ahead), each spooled to
disk past a megabyte, so memory stays flat.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import Any

__all__ = ["one_ahead"]

_DONE = object()


def one_ahead(windows: Iterator[tuple[Any, ...]]) -> Iterator[tuple[Any, ...]]:
    """`windows` as given, the next one read by a thread while the caller has the current one.

    Each item is a tuple whose second member is the window's buffer (closed if never taken).

    An error while reading is raised to the caller at the window it would have been. When the
    caller stops early, the thread stops after the window it is reading, which it closes.
    """
    handoff: queue.Queue[Any] = queue.Queue(maxsize=1)
    stop = threading.Event()

    def read() -> None:
        try:
            for item in windows:
                while not stop.is_set():
                    try:
                        handoff.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    item[1].close()
                    return
            handoff.put(_DONE)
        except BaseException as exc:  # handed to the caller, raised there
            handoff.put(exc)

    reader = threading.Thread(target=read, name="copy-export-ahead", daemon=True)
    reader.start()
    try:
        while True:
            item = handoff.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while True:  # a window handed over but never taken is closed
            try:
                left = handoff.get_nowait()
            except queue.Empty:
                break
            if isinstance(left, tuple):
                left[1].close()
        reader.join(timeout=5)
