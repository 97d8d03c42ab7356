"""A small UTF-8 text file read safely: the fleet file and task files come through here."""

from __future__ import annotations

import os
import stat
from pathlib import Path

# Task files and the fleet file are read only from regular files, and only this much of them: a
# task is a prompt, and /dev/zero or a FIFO must not hang or exhaust the reader.
MAX_TEXT_FILE = 1024 * 1024


def read_text_file(path: Path, limit: int = MAX_TEXT_FILE) -> str:
    """A small UTF-8 text file, or ValueError/OSError saying why not (not a regular file, too big)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ValueError("not a regular file (a device, FIFO or folder cannot be read as text)")
        if info.st_size > limit:
            raise ValueError(f"{info.st_size} bytes: larger than the {limit // 1024} KiB limit")
        with os.fdopen(fd, "rb", closefd=False) as fh:
            data = fh.read(limit + 1)
    finally:
        os.close(fd)
    if len(data) > limit:
        raise ValueError(f"larger than the {limit // 1024} KiB limit")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 text (byte {exc.start})") from None
