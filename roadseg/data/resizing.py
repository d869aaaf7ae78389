"""Resizing photos, colour labels and class maps with numpy and OpenCV.

Photos shrink by area averaging (no aliasing) and grow bilinearly. Labels and class maps are
resized by nearest neighbour, so no colour (no class) appears that the label did not have.
The graph twins that infer.py and the exported model use are in roadseg/predict/graph_resizing.py.
"""
import cv2
import numpy as np


def resize_photo(image, size):
    """Return a photo resized to size (width, height): area averaging when shrinking,
    bilinear when enlarging."""
    size = tuple(int(v) for v in size)
    height, width = image.shape[:2]
    if (width, height) == size:
        return image
    shrinking = width * height > size[0] * size[1]
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)


def resize_label(label, size):
    """Return a colour label or a class map resized to size (width, height) by nearest
    neighbour.

    Every output pixel copies one input pixel, so no colour (no class) appears that the label
    did not have; bilinear resizing would invent blended colours along every boundary.
    """
    size = tuple(int(v) for v in size)
    if (label.shape[1], label.shape[0]) == size:
        return label
    return cv2.resize(label, size, interpolation=cv2.INTER_NEAREST_EXACT)


def nearest_indices(in_size, out_size, start=0, count=None):
    """Return, for each output index (`count` of them from `start`; all `out_size` by
    default), the input index nearest to its pixel centre, clipped to the input."""
    positions = start + np.arange(out_size if count is None else count, dtype=np.float64)
    centres = (positions + 0.5) * in_size / out_size
    return np.clip(np.floor(centres).astype(np.int64), 0, in_size - 1)


def resize_nearest(class_map, size):
    """Return a [H, W] class map resized to size (width, height) by nearest neighbour, with
    the index formula the exported model computes in TF."""
    rows = nearest_indices(class_map.shape[0], size[1])
    cols = nearest_indices(class_map.shape[1], size[0])
    return class_map[rows[:, None], cols[None, :]]
