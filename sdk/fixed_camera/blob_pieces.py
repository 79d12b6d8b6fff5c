"""A frame's blobs after the split by moved masks, from which the colour rules cut further
pieces (sdk.fixed_camera.reemergence: an object coming out from behind another;
sdk.fixed_camera.newcomer: an object arriving in front of one).

Each cut takes a part of one blob (the blob and the pieces already cut from it) as a new
label, taken from the labels no blob or piece uses; the caller's map is copied before
the first cut. A cut piece is nobody else's to cut again, and no cut may leave one of the
blob's labels with fewer than MIN_LEFT pixels (it would be a sliver of an object, or an
empty label).
"""

from __future__ import annotations

from collections.abc import Collection

import numpy as np

from sdk.fixed_camera.track_split import MAX_LABEL, PredictedMask, clip_to_box

MIN_LEFT = 16  # pixels each of a blob's labels keeps after a cut, if it had any


class BlobPieces:
    """The label map (uint8 [H, W]) as the split left it, `boxes` (each blob's x0, y0, x1,
    y1 from before the split) and `cut_from` ({piece: blob}); `owned`: pieces already
    given to a track, which are not cut again."""

    def __init__(
        self,
        labels: np.ndarray,
        boxes: dict[int, tuple[int, int, int, int]],
        cut_from: dict[int, int],
        owned: Collection[int] = (),
    ) -> None:
        self.labels, self.boxes, self.cut_from = labels, boxes, dict(cut_from)
        used = set(boxes) | set(cut_from)
        self._free = [v for v in range(MAX_LABEL, 0, -1) if v not in used]
        self._pieces: dict[int, list[int]] = {b: [b] for b in boxes}
        for piece, blob in cut_from.items():
            if piece not in owned:
                self._pieces.setdefault(blob, [blob]).append(piece)
        self._copied = False

    @property
    def full(self) -> bool:
        """No label is left for another piece."""
        return not self._free

    def mine(self, blob: int) -> np.ndarray:
        """bool over the blob's box: the pixels of the blob and of the pieces cut from it
        that may still be cut."""
        x0, y0, x1, y1 = self.boxes[blob]
        return np.isin(self.labels[y0:y1, x0:x1], self._pieces[blob])

    def may_cut(self, blob: int, part: np.ndarray) -> bool:
        """Whether cutting `part` (bool over the blob's box) leaves each of the blob's
        labels at least MIN_LEFT pixels, or none to keep."""
        x0, y0, x1, y1 = self.boxes[blob]
        window = self.labels[y0:y1, x0:x1]
        for piece in self._pieces[blob]:
            has = window == piece
            if has.any() and np.count_nonzero(has & ~part) < MIN_LEFT:
                return False
        return True

    def cut(self, blob: int, part: np.ndarray) -> int:
        """Give `part` (bool over the blob's box) a new label; returns the label."""
        value = self._free.pop()
        if not self._copied:
            self.labels, self._copied = self.labels.copy(), True
        x0, y0, x1, y1 = self.boxes[blob]
        self.labels[y0:y1, x0:x1][part] = value
        self.cut_from[value] = blob
        return value


def tracks_in(
    mine: np.ndarray,
    box: tuple[int, int, int, int],
    visible: list[tuple[int, PredictedMask]],
    min_share: float,
) -> dict[int, PredictedMask]:
    """{key: moved mask} of the `visible` (key, moved mask) pairs whose moved mask the blob
    (`mine`, bool over its box) holds at least min_share of."""
    shown = {}
    for key, predicted in visible:
        rows, cols, part = clip_to_box(predicted, box)
        if not part.size:
            continue
        held = np.count_nonzero(part & mine[rows, cols])
        if held and held >= min_share * max(int(np.count_nonzero(predicted.mask)), 1):
            shown[key] = predicted
    return shown


def holder(labels: np.ndarray, predicted: PredictedMask, min_share: float) -> int:
    """The label (blob or piece) of `labels` that holds the most of a moved mask, when it
    holds at least min_share of it; 0 when none does."""
    height, width = labels.shape
    rows, cols, part = clip_to_box(predicted, (0, 0, width, height))
    under = labels[rows, cols][part]
    under = under[under > 0]
    if not under.size:
        return 0
    counts = np.bincount(under)
    label = int(np.argmax(counts))
    if counts[label] >= min_share * max(int(np.count_nonzero(predicted.mask)), 1):
        return label
    return 0
