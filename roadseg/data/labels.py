"""Labels: colour labels to class maps, class maps to one-hot rows and back, and checking
that rows are one-hot. Everything is one vectorised pass over the pixels."""
from typing import NamedTuple

import numpy as np


def pack_colors(bgr):
    """Return uint8 colours [..., 3] packed into one int32 each (B << 16 | G << 8 | R)."""
    bgr = np.asarray(bgr)
    return ((bgr[..., 0].astype(np.int32) << 16) | (bgr[..., 1].astype(np.int32) << 8)
            | bgr[..., 2].astype(np.int32))


def colors_to_class_map(label_bgr, colors, unknown=-1):
    """Return the class index of every pixel of a colour label, by one vectorised lookup.

    label_bgr: uint8 [..., 3] BGR; colors: {class index: (B, G, R)} (if two classes share a
    colour, the first listed wins); unknown: the index given to colours not in `colors` (-1,
    the default, means "don't care"). Returns int32 [...].

    Each colour is packed into one integer, the table is sorted, and all pixels are found at
    once by binary search: no loop over classes or pixels.
    """
    classes = np.fromiter(colors.keys(), dtype=np.int32, count=len(colors))
    keys = pack_colors(np.array(list(colors.values()), dtype=np.uint8).reshape(-1, 3))
    order = np.argsort(keys, kind='stable')
    keys, classes = keys[order], classes[order]
    packed = pack_colors(label_bgr)
    if not len(keys):
        return np.full(packed.shape, unknown, dtype=np.int32)
    index = np.minimum(np.searchsorted(keys, packed), len(keys) - 1)
    return np.where(keys[index] == packed, classes[index], np.int32(unknown)).astype(np.int32)


def one_hot(class_map, num_classes):
    """Return one-hot float32 labels [..., num_classes] from class indices [...]; -1 (don't
    care), or any index outside 0..num_classes-1, gives an all-zero row."""
    class_map = np.asarray(class_map)
    # A table with one row per class and a last, all-zero row: one gather is several times
    # faster than comparing every pixel with every class.
    table = np.eye(num_classes + 1, num_classes, dtype=np.float32)
    rows = np.where((class_map >= 0) & (class_map < num_classes), class_map, num_classes)
    return np.take(table, rows, axis=0)


def labels_to_class_map(labels):
    """Return the class index per pixel of one-hot labels [..., H, W, C] as int32 [..., H, W];
    -1 where the row is all zero (don't care)."""
    labels = np.asarray(labels)
    classes = np.argmax(labels, axis=-1).astype(np.int32)
    classes[~np.any(labels != 0, axis=-1)] = -1
    return classes


class OneHotCheck(NamedTuple):
    """What `check_one_hot` found: boolean masks over the pixels [..., H, W]."""

    bad: np.ndarray   # rows that are not valid (all-zero rows included unless allowed)
    zero: np.ndarray  # rows that are all zero, whether allowed or not


def check_one_hot(labels, allow_zero_rows=False):
    """Check every label row [..., C] at once: valid is exactly one 1 and all else 0.

    With `allow_zero_rows` (a source with `ignores_pixels`), all-zero rows are not bad; they
    are still marked in `zero` so that a report can count them apart. A row is one-hot when it
    has exactly one non-zero entry and sums to 1 (with one non-zero entry, the sum is that
    entry, exactly); NaN counts as non-zero and never sums to 1. Returns
    `OneHotCheck(bad, zero)`.
    """
    labels = np.asarray(labels)
    nonzero = labels != 0
    # einsum sums the short class axis several times faster than ndarray.sum or max; byte
    # counts are exact below 256 classes.
    if labels.shape[-1] < 256:
        count = np.einsum('...k->...', nonzero.view(np.uint8))
    else:
        count = np.count_nonzero(nonzero, axis=-1)
    valid = (count == 1) & (np.einsum('...k->...', labels) == 1)
    zero = count == 0
    bad = ~valid & ~zero if allow_zero_rows else ~valid
    return OneHotCheck(bad, zero)


def first_coordinates(mask, limit=5):
    """Return (x, y) of the first `limit` True pixels of a 2-D mask, row by row."""
    ys, xs = np.nonzero(mask)
    return list(zip(xs[:limit].tolist(), ys[:limit].tolist()))
