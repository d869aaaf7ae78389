"""Training augmentation: random scale, crop (or pad), left-right flip and photometric jitter.

The scale factor is relative to the source's `image_size`, the size validation and infer.py
use: 1 is a whole photo at that size, 2 twice as wide and high, so a crop of `image_size`
then shows a quarter of the photo at twice the detail. Each sample is resized from its
full-resolution file in one step (never from a downscaled copy). The photo grows
bilinearly or shrinks by area averaging, the label by nearest neighbour: both with pixel
centres aligned, so a photo and its label stay registered. Then a window of the crop size
is taken at a random place; where the scaled photo is smaller than the window, the photo is
padded with VGG16's mean colour (zero after mean subtraction) and the label with
"don't care" (-1, an all-zero one-hot row), so no class is invented.

Every random number of an epoch is drawn by the source from one generator seeded with
(seed, epoch) before the worker threads start (`draw_transforms`), so the same seed and
epoch give the same batches however the threads interleave.
"""
import argparse
from dataclasses import dataclass
from typing import NamedTuple, Optional, Tuple

import cv2
import numpy as np

from roadseg.core.checks import check_image_size
from roadseg.core.errors import UserError
from roadseg.data import resizing
from roadseg.data.images import VGG_MEAN_BGR

HUE_TURNS = 0.1    # at --photometric F the hue turns by up to F * HUE_TURNS of the circle
MAX_SCALE = 8.0
# BGR to YIQ and back: a hue turn is a rotation of the (I, Q) plane, saturation its length.
_BGR_TO_YIQ = np.array([[0.114, 0.587, 0.299],
                        [-0.32134, -0.27455, 0.59589],
                        [0.31119, -0.52260, 0.21141]])
_YIQ_TO_BGR = np.linalg.inv(_BGR_TO_YIQ)


class SampleTransform(NamedTuple):
    """What happens to one training sample (drawn by `Augmentation.draw_transforms`)."""

    flip: bool = False
    scale: float = 1.0        # relative to image_size
    x: float = 0.0            # where the window sits, 0..1 of the free range
    y: float = 0.0
    brightness: float = 1.0   # factors; 1 leaves the photo as it is
    contrast: float = 1.0
    saturation: float = 1.0
    hue: float = 0.0          # turns of the colour circle


@dataclass(frozen=True)
class Augmentation:
    """The training augmentation of a run: main.py's --scale-range, --crop, --photometric.

    The left-right flip is always on for training, as before; the default (no scale range,
    no crop, no jitter) is exactly the earlier behaviour.
    """

    scale_range: Optional[Tuple[float, float]] = None
    crop: Optional[Tuple[int, int]] = None       # (width, height); default image_size
    photometric: float = 0.0

    def __post_init__(self):
        if self.scale_range is not None:
            low, high = self.scale_range
            if not 0 < low <= high <= MAX_SCALE:
                raise UserError(f'--scale-range {low},{high}: need 0 < MIN <= MAX <= '
                                f'{MAX_SCALE:g}')
        if self.crop is not None:
            check_image_size(tuple(self.crop), '--crop')
        if not 0 <= self.photometric <= 1:
            raise UserError(f'--photometric must be in [0, 1], not {self.photometric}')

    @property
    def active(self):
        """Return whether anything beyond the flip is asked for."""
        return bool(self.scale_range or self.crop or self.photometric)

    def sample_size(self, image_size):
        """Return (width, height) of the training samples: the crop, else `image_size`."""
        return tuple(int(v) for v in (self.crop or image_size))

    def draw_transforms(self, rng, flips):
        """Return a SampleTransform per sample, or when inactive the `flips` themselves
        (True: mirrored), as before. `flips` [n] bool were drawn before from `rng`, which
        then draws the rest: an inactive augmentation draws nothing more."""
        count = len(flips)
        if not self.active:
            return [bool(flip) for flip in flips]
        low, high = self.scale_range or (1.0, 1.0)
        scales = rng.uniform(low, high, count)
        places = rng.random((2, count))
        strength = self.photometric
        factors = np.clip(rng.uniform(1 - strength, 1 + strength, (3, count)), 0, None)
        hues = rng.uniform(-strength, strength, count) * HUE_TURNS
        return [SampleTransform(bool(flips[i]), float(scales[i]), float(places[0, i]),
                                float(places[1, i]), float(factors[0, i]),
                                float(factors[1, i]), float(factors[2, i]), float(hues[i]))
                for i in range(count)]


def parse_scale_range(text):
    """Return (MIN, MAX) from 'MIN,MAX' for argparse."""
    try:
        low, high = (float(part) for part in text.split(','))
    except ValueError:
        raise argparse.ArgumentTypeError(f'{text!r} is not MIN,MAX, e.g. 0.5,2') from None
    return low, high


def parse_crop(text):
    """Return (width, height) from 'WxH' for argparse."""
    try:
        width, height = (int(part) for part in text.lower().split('x'))
    except ValueError:
        raise argparse.ArgumentTypeError(f'{text!r} is not WxH, e.g. 512x256') from None
    return width, height


def add_flags(parser):
    """Add --scale-range, --crop and --photometric to `parser` (main.py and
    check_data_source.py share them); unset flags are None."""
    parser.add_argument('--scale-range', type=parse_scale_range, metavar='MIN,MAX',
                        help='training: scale each photo and label by a random factor in '
                             '[MIN, MAX], relative to the source\'s image size (1: the whole '
                             'photo at that size), resized from the full-resolution files')
    parser.add_argument('--crop', type=parse_crop, metavar='WxH',
                        help='training: a random WxH window (multiples of 32) of each scaled '
                             'sample; smaller samples are padded with the mean colour and '
                             '"don\'t care" labels (default: the source\'s image size)')
    parser.add_argument('--photometric', type=float, metavar='F',
                        help='training: brightness, contrast and saturation factors in '
                             f'[1-F, 1+F], hue turned by up to F*{HUE_TURNS:g} of the '
                             'circle (0: off, the default)')


def scaled_size(image_size, scale):
    """Return (width, height) of `image_size` scaled by `scale`, at least one pixel."""
    return tuple(max(1, int(round(v * scale))) for v in image_size)


def window_origin(scaled, window, place):
    """Return where a window of length `window` starts in a sample of length `scaled`, at
    `place` (0..1) of the range: inside the sample, or (negative) the sample inside it."""
    low, high = sorted((0, scaled - window))
    return low + min(int(place * (high - low + 1)), high - low)


def take_window(array, x0, y0, size, fill, dtype=None):
    """Return the [height, width, ...] window of `array` at (x0, y0) (of `dtype`, default
    the array's), where it lies outside `array` filled with `fill`, and its (left, top,
    right, bottom) part that is inside."""
    width, height = size
    out = np.empty((height, width) + array.shape[2:], dtype or array.dtype)
    out[...] = fill
    left, top = max(0, -x0), max(0, -y0)
    right = min(width, array.shape[1] - x0)
    bottom = min(height, array.shape[0] - y0)
    out[top:bottom, left:right] = array[top + y0:bottom + y0, left + x0:right + x0]
    return out, (left, top, right, bottom)


def jitter_colors(image, transform):
    """Return float32 BGR `image` with the transform's brightness, saturation, hue and
    contrast applied (one 3x3 colour matrix, then contrast about the mean grey), in 0..255."""
    angle = 2 * np.pi * transform.hue
    rotation = transform.saturation * np.array([[np.cos(angle), -np.sin(angle)],
                                                [np.sin(angle), np.cos(angle)]])
    yiq = np.eye(3)
    yiq[1:, 1:] = rotation
    matrix = transform.brightness * (_YIQ_TO_BGR @ yiq @ _BGR_TO_YIQ)
    # cv2.transform mixes the channels per pixel without BLAS, whose threads would fight
    # the loader's own threads (a numpy matmul here made augmented loading 2x slower).
    out = cv2.transform(np.ascontiguousarray(image, np.float32), matrix.astype(np.float32))
    grey = float(np.dot(cv2.mean(out)[:3], _BGR_TO_YIQ[0]))
    out = (out - grey) * np.float32(transform.contrast) + np.float32(grey)
    return np.clip(out, 0, 255, out=out)


def window_indices(origin, length, scaled, full):
    """Return, for each pixel of a window of `length` from `origin` in a sample scaled from
    `full` to `scaled` pixels, the file's pixel nearest its centre, and whether it lies
    inside the sample (not padding)."""
    positions = origin + np.arange(length)
    inside = (positions >= 0) & (positions < scaled)
    return resizing.nearest_indices(full, scaled, origin, length), inside


def label_window(label, classes_of, x0, y0, scaled, size):
    """Return the class map [height, width] of the window at (x0, y0) of `label` (a label
    file as stored) scaled to `scaled`, by nearest neighbour; -1 outside the sample.

    Only the window's pixels are picked and looked up, not the whole scaled label.
    """
    columns, inside_x = window_indices(x0, size[0], scaled[0], label.shape[1])
    rows, inside_y = window_indices(y0, size[1], scaled[1], label.shape[0])
    classes = classes_of(label[rows[:, None], columns[None, :]])
    classes[~(inside_y[:, None] & inside_x[None, :])] = -1
    return classes


def transform_sample(photo, label, classes_of, image_size, out_size, transform):
    """Return (float32 BGR photo, int32 class map) of one augmented training sample.

    `photo` and `label` are the full-resolution files (the label as stored, colours or
    ids; `classes_of(label)` gives its class map, -1 for don't care). The sample is scaled
    relative to `image_size`, windowed at `out_size` (padding: mean colour, don't care),
    jittered and mirrored as `transform` says.
    """
    scaled = scaled_size(image_size, transform.scale)
    x0 = window_origin(scaled[0], out_size[0], transform.x)
    y0 = window_origin(scaled[1], out_size[1], transform.y)
    photo = resizing.resize_photo(photo, scaled)
    image, (left, top, right, bottom) = take_window(photo, x0, y0, out_size, VGG_MEAN_BGR,
                                                    np.float32)
    classes = label_window(label, classes_of, x0, y0, scaled, out_size)
    if transform[4:] != SampleTransform()[4:]:
        image[top:bottom, left:right] = jitter_colors(image[top:bottom, left:right], transform)
    if transform.flip:
        image, classes = image[:, ::-1], classes[:, ::-1]
    return image, classes
