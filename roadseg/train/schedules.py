"""Learning-rate schedules: constant or polynomial ("poly") decay, with a linear warm-up.

The rate of a step follows from the global step alone, which every checkpoint stores, so a
resumed run continues its schedule where it stopped.
"""
from dataclasses import dataclass

from roadseg.core.errors import UserError

SCHEDULES = ('constant', 'poly')
POLY_POWER = 0.9


@dataclass(frozen=True)
class Schedule:
    """The learning rate at each step of a run: main.py's --learning-rate, --lr-schedule and
    --warmup-epochs over its --epochs."""

    base_rate: float
    total_steps: int            # steps of the whole run (every epoch, resumed ones too)
    kind: str = 'constant'
    warmup_steps: int = 0

    def __post_init__(self):
        if self.kind not in SCHEDULES:
            raise UserError(f'unknown --lr-schedule {self.kind!r}: use '
                            f'{" or ".join(SCHEDULES)}')

    def rate(self, step):
        """Return the learning rate of global step `step` (0 is the first):
        poly: base * (1 - step / total) ^ 0.9, zero from the last step on; warm-up: times
        (step + 1) / warm-up steps over the first warm-up steps."""
        rate = self.base_rate
        if self.kind == 'poly':
            rate *= (1 - min(step, self.total_steps) / self.total_steps) ** POLY_POWER
        if step < self.warmup_steps:
            rate *= (step + 1) / self.warmup_steps
        return rate


def steps_per_epoch(num_training, batch_size):
    """Return the number of steps of one epoch: the last batch may be smaller."""
    return max(1, -(-int(num_training) // int(batch_size)))


def run_schedule(base_rate, kind, warmup_epochs, epochs, num_training, batch_size):
    """Return the Schedule of a run of `epochs` epochs over `num_training` samples."""
    per_epoch = steps_per_epoch(num_training, batch_size)
    return Schedule(float(base_rate), epochs * per_epoch, kind, int(warmup_epochs * per_epoch))
