"""Checks of values that users and data sources give, each raising one clear `UserError`."""
import numpy as np

from roadseg.core.errors import UserError


def is_int(value):
    """Return True for Python and NumPy integers, not for bools."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def is_color(color):
    """Return True for a sequence of three integers 0..255."""
    return (isinstance(color, (tuple, list, np.ndarray)) and len(color) == 3
            and all(is_int(c) and 0 <= c <= 255 for c in color))


def check_image_size(size, what):
    """Raise `UserError` unless `size` is (width, height) of positive multiples of 32.

    The network halves the resolution five times; other sizes would not line up.
    """
    if (not isinstance(size, (tuple, list)) or len(size) != 2
            or not all(is_int(v) and v > 0 and v % 32 == 0 for v in size)):
        suggestion = ''
        if isinstance(size, (tuple, list)) and len(size) == 2 and all(is_int(v) for v in size):
            rounded = tuple(max(32, int(round(v / 32)) * 32) for v in size)
            suggestion = f', for example {rounded}'
        raise UserError(f'{what} has image_size {size!r}: it must be (width, height) with both '
                        f'multiples of 32{suggestion}')


def check_valid_fraction(valid_fraction):
    """Raise `UserError` unless 0 <= valid_fraction < 1."""
    if (isinstance(valid_fraction, bool)
            or not isinstance(valid_fraction, (int, float, np.integer, np.floating))
            or not 0 <= valid_fraction < 1):
        raise UserError(f'the validation fraction must be at least 0 and below 1, not '
                        f'{valid_fraction!r}')


def check_seed(seed):
    """Raise `UserError` unless `seed` is a non-negative integer."""
    if not is_int(seed) or seed < 0:
        raise UserError(f'the seed must be a non-negative integer, not {seed!r}')


def check_batch_size(batch_size):
    """Raise `UserError` unless `batch_size` is a positive integer."""
    if not is_int(batch_size) or batch_size < 1:
        raise UserError(f'the batch size must be a positive integer, not {batch_size!r}')
