"""Test-time augmentation: a photo runs through the network as several variants (its mirror
image, other scales), and their class probabilities, mirrored back and resized to one size,
are averaged before the argmax. Windows (windows.py) are the other way one photo becomes
several network runs; `InferenceOptions` holds both.
"""
from dataclasses import dataclass
from typing import Optional, Tuple

from roadseg.core.errors import UserError
from roadseg.predict.windows import check_window

MAX_SCALE = 4.0


@dataclass(frozen=True)
class InferenceOptions:
    """How each photo is run: `scales` relative to the input scale (or the run's image size),
    each also mirrored with `flip`; a `window` (width, height) splits larger network inputs
    into windows overlapping by `overlap` of a window."""

    flip: bool = False
    scales: Tuple[float, ...] = (1.0,)
    window: Optional[Tuple[int, int]] = None
    overlap: float = 1 / 3

    def check(self):
        """Raise `UserError` for options no prediction can use."""
        if not self.scales:
            raise UserError('--tta-scales needs at least one scale')
        for scale in self.scales:
            if not 0 < scale <= MAX_SCALE:
                raise UserError(f'--tta-scales: each scale must be above 0 and at most '
                                f'{MAX_SCALE:g}, not {scale:g}')
        check_window(self.window, self.overlap)
        return self

    @property
    def variants(self):
        """Return the (scale, mirrored) pairs each photo runs as, the plain one first when
        there is one."""
        flips = (False, True) if self.flip else (False,)
        return [(scale, flipped) for scale in self.scales for flipped in flips]

    @property
    def plain(self):
        """Return whether each photo runs once, whole: the prediction of the run as trained."""
        return not self.flip and tuple(self.scales) == (1.0,) and self.window is None

    def describe(self):
        """Return the options in words, for the console and metrics.json."""
        parts = [f'scales {",".join(f"{s:g}" for s in self.scales)}']
        if self.flip:
            parts.append('mirrored')
        if self.window:
            parts.append(f'windows {self.window[0]}x{self.window[1]} overlapping '
                         f'{self.overlap:.2g}')
        return ', '.join(parts)

    @classmethod
    def from_json(cls, values):
        """Return the options metrics.json recorded (`to_json`)."""
        return cls(values['flip'], tuple(values['scales']),
                   tuple(values['window']) if values['window'] else None,
                   values['window_overlap'] if values['window'] else 1 / 3)

    def to_json(self):
        """Return the options as metrics.json records them."""
        return {'flip': self.flip, 'scales': list(self.scales),
                'window': list(self.window) if self.window else None,
                'window_overlap': self.overlap if self.window else None}
