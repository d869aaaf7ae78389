"""Drawing class maps: class colours, and colours blended on photos."""
import cv2
import numpy as np


def color_lookup(class_map, label_colors):
    """Return the colour [..., 3] and a "has a colour" flag [...] per pixel, by one table
    lookup.

    The table has a row per class index up to the largest coloured one, plus a last row with
    no colour for -1, out-of-range indices and classes without a colour.
    """
    size = max(label_colors, default=-1) + 2
    table = np.zeros((size, 3), dtype=np.uint8)
    known = np.zeros(size, dtype=bool)
    if label_colors:
        indices = np.fromiter(label_colors.keys(), dtype=np.int64, count=len(label_colors))
        table[indices] = np.array(list(label_colors.values()), dtype=np.uint8).reshape(-1, 3)
        known[indices] = True
    class_map = np.asarray(class_map)
    rows = np.where((class_map >= 0) & (class_map < size - 1), class_map, size - 1)
    return table[rows], known[rows]


def class_map_to_colors(class_map, label_colors, background=(0, 0, 0)):
    """Return the colour label uint8 [..., 3] BGR of a class map; `background` where a pixel's
    class has no colour (-1 included)."""
    colors, known = color_lookup(class_map, label_colors)
    return np.where(known[..., None], colors, np.array(background, dtype=np.uint8))


def blend_labels(image, class_map, label_colors, alpha=0.5):
    """Return one image [H, W, 3] (BGR, uint8 or float 0..255) blended with its classes'
    colours.

    Each pixel becomes (1 - alpha) * image + alpha * colour of its class; pixels of class -1
    (or of a class without a colour) stay as they are. Returns uint8 BGR [H, W, 3].
    """
    image = np.asarray(image, dtype=np.float32)
    colors, known = color_lookup(class_map, label_colors)
    blended = image * (1 - alpha) + colors.astype(np.float32) * alpha
    result = np.where(known[..., None], blended, image)
    return np.clip(np.rint(result), 0, 255).astype(np.uint8)


def draw_classes(image, classes, label_colors):
    """Return (colour mask, overlay) of a photo and its class map of the same size.

    The same pixels as `class_map_to_colors` and `blend_labels` (half photo, half class
    colour, rounded half to even), computed on 8-bit values with one table lookup and one
    OpenCV blend: for a 2048x1024 photo several times faster than with float arrays, which
    matters once the network is fast.
    """
    colours, known = color_lookup(classes, label_colors)
    if image.dtype != np.uint8 or image.shape != colours.shape:
        return colours, blend_labels(image, classes, label_colors)
    overlay = cv2.addWeighted(image, 0.5, colours, 0.5, 0)
    if not known.all():
        overlay[~known] = image[~known]
    return colours, overlay
