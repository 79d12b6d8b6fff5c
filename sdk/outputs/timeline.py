"""What a clip held over time: objects per frame and each ID's lifetime, in bounded memory.

The HTML report plots these and `astseg run` prints their summary. Memory stays small on
a stream that runs for days: a count per frame (2 bytes) and one record per ID.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass
class Lifetime:
    """One ID: the first and last frame (positions in the clip) it was seen, how often."""

    first: int
    last: int
    frames: int


class ClipTimeline:
    """Feed it the IDs seen in each frame, in order."""

    def __init__(self) -> None:
        self.counts: array[int] = array("H")
        self.lifetimes: dict[int, Lifetime] = {}

    def add(self, ids: Iterable[int]) -> None:
        position = len(self.counts)
        seen = {int(i) for i in ids}
        self.counts.append(min(len(seen), 0xFFFF))
        for ident in seen:
            life = self.lifetimes.get(ident)
            if life is None:
                self.lifetimes[ident] = Lifetime(position, position, 1)
            else:
                life.last, life.frames = position, life.frames + 1

    @property
    def frames(self) -> int:
        return len(self.counts)

    def line(self) -> str:
        """One sentence: how many objects per frame, how many IDs."""
        if not self.counts:
            return "no frames"
        mean = sum(self.counts) / len(self.counts)
        return (
            f"{mean:.2f} objects per frame on average (at most {max(self.counts)}), "
            f"{len(self.lifetimes)} distinct IDs"
        )


class SpreadSample(Generic[T]):
    """At most `keep` items spread evenly over a stream whose length is not known ahead.

    Every `stride`-th item is held; when twice `keep` are held, every other one goes and the
    stride doubles, so memory stays bounded and the held items cover the whole stream.
    """

    def __init__(self, keep: int) -> None:
        if keep < 1:
            raise ValueError(f"keep is {keep}; it must be 1 or more.")
        self.keep = keep
        self.stride = 1
        self.seen = 0
        self.held: list[tuple[int, T]] = []

    def wants_next(self) -> bool:
        """Whether the next item would be held (so a caller can skip costly work if not)."""
        return self.seen % self.stride == 0

    def add(self, item: T) -> None:
        if self.wants_next():
            self.held.append((self.seen, item))
            if len(self.held) >= 2 * self.keep:
                self.held = self.held[::2]
                self.stride *= 2
        self.seen += 1

    def skip(self) -> None:
        """Count an item without it (call instead of `add` when `wants_next()` is False)."""
        if self.wants_next():
            raise ValueError("this item is wanted; add it instead of skipping it.")
        self.seen += 1

    def chosen(self) -> list[tuple[int, T]]:
        """`keep` (or fewer) of the held items, evenly spaced from the first to the last."""
        n = len(self.held)
        if n <= self.keep:
            return list(self.held)
        if self.keep == 1:
            return [self.held[0]]
        picks = sorted({round(i * (n - 1) / (self.keep - 1)) for i in range(self.keep)})
        return [self.held[i] for i in picks]
