"""A diff's display lines, kept as one string and the offsets where its lines start.

A list of a million small strings (a 50 MB diff) is a million small allocations: freed, they leave
the allocator's arenas fragmented and the process keeps the memory (195 MB after the inspector
closed). One string and one array are two large blocks, which go back to the system whole the
moment the inspector lets go of them. Lines are cut out only when drawn (a screenful at a time).
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Iterator, Sequence
from typing import overload

from rich.cells import cell_len

TAB = 4


class DiffLines(Sequence[str]):
    """The lines of `text` (tabs expanded, split at newlines, a CR before one dropped)."""

    def __init__(self, text: str) -> None:
        self._text = text.expandtabs(TAB)
        starts = array("q", [0])
        starts.extend(m.end() for m in re.finditer("\n", self._text))
        if len(starts) > 1 and starts[-1] == len(self._text):
            starts.pop()  # a final newline ends the last line, it starts no new one
        if not self._text:
            starts = array("q")
        self._starts = starts

    def __len__(self) -> int:
        return len(self._starts)

    def _line(self, index: int) -> str:
        start = self._starts[index]
        end = self._starts[index + 1] - 1 if index + 1 < len(self._starts) else len(self._text)
        line = self._text[start:end]
        return line.removesuffix("\n").removesuffix("\r")

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> list[str]: ...
    def __getitem__(self, index: int | slice) -> str | list[str]:
        if isinstance(index, slice):
            return [self._line(i) for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        return self._line(index)

    def __iter__(self) -> Iterator[str]:
        return (self._line(i) for i in range(len(self)))

    def width(self) -> int:
        """The widest line, in terminal cells."""
        if not self._starts:
            return 0
        if self._text.isascii():  # a cell per character: the longest span between line starts
            last = len(self._text) + (0 if self._text.endswith("\n") else 1)
            ends = [*self._starts[1:], last]
            return max(end - start for start, end in zip(self._starts, ends, strict=True)) - 1
        return max(cell_len(line) for line in self)
