"""Sliding windows: a network input larger than a window runs as overlapping windows, and
the class probabilities of the windows are put back together, averaged where they overlap
(each window weighs the same).

Window sides and their offsets are multiples of 32, the network's stride, so a window sees
the pixels on the same grid as the whole input does: away from a window's borders its
output equals the whole input's.
"""
import numpy as np

from roadseg.core.errors import UserError

STRIDE = 32


def check_window(window, overlap):
    """Raise `UserError` unless `window` (width, height) is None or made of multiples of 32
    and `overlap` is in [0, 1)."""
    if window is not None:
        width, height = window
        if width < STRIDE or height < STRIDE or width % STRIDE or height % STRIDE:
            raise UserError(f'--window {width}x{height}: both sides must be positive '
                            f'multiples of {STRIDE}')
    if not 0 <= overlap < 1:
        raise UserError(f'--window-overlap must be at least 0 and below 1, not {overlap:g}')


def window_starts(length, window, overlap):
    """Return the start offsets of windows of `window` pixels covering [0, length): multiples
    of 32, consecutive ones overlapping by about `overlap` of a window, the last one ending
    at `length` (a multiple of 32 too). A length within one window has one window at 0."""
    if length <= window:
        return [0]
    step = max(STRIDE, int(window * (1 - overlap)) // STRIDE * STRIDE)
    return list(range(0, length - window, step)) + [length - window]


def tiles(height, width, window, overlap):
    """Return the windows (y, x, h, w) of an input [height, width] (multiples of 32) for a
    window (width, height): every pixel covered, each window inside the input."""
    window_width, window_height = window
    h, w = min(window_height, height), min(window_width, width)
    return [(y, x, h, w) for y in window_starts(height, h, overlap)
            for x in window_starts(width, w, overlap)]


class Stitcher:
    """Adds window probabilities into a [height, width, C] map and averages them."""

    def __init__(self, height, width, num_classes):
        self.total = np.zeros((height, width, num_classes), np.float32)
        self.count = np.zeros((height, width, 1), np.float32)

    def add(self, tile, probabilities):
        """Add the probabilities [h, w, C] of window `tile` (y, x, h, w)."""
        y, x, h, w = tile
        self.total[y:y + h, x:x + w] += probabilities
        self.count[y:y + h, x:x + w] += 1

    def result(self):
        """Return the averaged probabilities; every pixel must have been covered."""
        if not self.count.all():
            raise ValueError('the windows left pixels uncovered')
        return self.total / self.count
