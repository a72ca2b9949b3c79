"""Key presses from the terminal without Enter (cbreak mode), restored on exit; a no-op off a TTY."""

from __future__ import annotations

import os
import select
import sys
import termios
import tty
from types import TracebackType
from typing import Final

_ESC: Final = "\x1b"


def split_keys(chunk: str) -> list[str]:
    """Single keys of one read; escape sequences (arrows, function keys) are dropped, a lone Esc kept."""
    if chunk == _ESC:
        return [_ESC]
    keys: list[str] = []
    i = 0
    while i < len(chunk):
        if chunk[i] == _ESC:
            # skip ESC [ ... final byte (or ESC O x)
            j = i + 1
            if j < len(chunk) and chunk[j] in "[O":
                j += 1
                while j < len(chunk) and not chunk[j].isalpha() and chunk[j] != "~":
                    j += 1
            i = j + 1
            continue
        keys.append(chunk[i])
        i += 1
    return keys


class KeyReader:
    """`with KeyReader() as keys: keys.read()` returns the keys pressed since the last call."""

    def __init__(self, fd: int | None = None) -> None:
        """Reads stdin by default."""
        self._fd = sys.stdin.fileno() if fd is None else fd
        self._saved: list[object] | None = None
        self.active = False

    def __enter__(self) -> KeyReader:
        try:
            if os.isatty(self._fd):
                self._saved = termios.tcgetattr(self._fd)
                tty.setcbreak(self._fd)  # keeps ISIG: Ctrl-C still raises KeyboardInterrupt
                self.active = True
        except (OSError, termios.error):
            self.active = False
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._saved is not None:
            termios.tcsetattr(self._fd, termios.TCSADRAIN, self._saved)  # type: ignore[arg-type]
            self._saved = None
        self.active = False

    def read(self) -> list[str]:
        """Keys waiting now (never blocks)."""
        if not self.active:
            return []
        ready, _, _ = select.select([self._fd], [], [], 0)
        if not ready:
            return []
        data = os.read(self._fd, 64)
        if not data:
            self.active = False  # the terminal went away
            return []
        return split_keys(data.decode("utf-8", errors="ignore"))
