"""--time-budget: fit a new run's epochs into a number of minutes on whatever machine it runs.

The same recipe takes 35 minutes on one 2-core CPU and five times as long on another, so a
fixed --epochs cannot promise a duration. With a budget, the run measures its own epochs
(training, validation and checkpoints) and, after each one, lowers its epoch count to what
the time left still holds at the mean pace so far. The count only ever falls, never below
the epochs done and never above --epochs, and the learning-rate schedule is refitted to it,
so a poly decay still reaches zero at the new end. The settings of the run record the new
count: a resumed run trains on to it.
"""
from dataclasses import dataclass
import time


def epochs_within_budget(budget_seconds, elapsed_seconds, epochs_done, planned):
    """Return the epoch count that fits: `epochs_done` plus as many more epochs as the
    budget's remaining seconds hold at the mean pace of the done ones, at most `planned`."""
    if epochs_done < 1:
        return planned
    pace = elapsed_seconds / epochs_done
    more = int(max(0.0, budget_seconds - elapsed_seconds) // pace) if pace > 0 else planned
    return max(epochs_done, min(planned, epochs_done + more))


@dataclass
class TimeBudget:
    """The clock of a budgeted run, started when its first epoch starts."""

    minutes: float
    started: float = 0.0

    def start(self):
        """Start the clock now; return self."""
        self.started = time.monotonic()
        return self

    def elapsed(self):
        """Return the seconds since the clock started."""
        return time.monotonic() - self.started

    def epochs_that_fit(self, elapsed, epochs_done, planned):
        """Return the epoch count the run should train to after `elapsed` seconds (see
        epochs_within_budget)."""
        return epochs_within_budget(self.minutes * 60, elapsed, epochs_done, planned)

    def describe(self, elapsed, epochs_done, epochs):
        """Return the `[i]` line that says what the budget made of the run."""
        pace = elapsed / max(epochs_done, 1)
        return (f'[i] Time budget {self.minutes:g} min: epochs take {pace:.0f} s here, so '
                f'the run trains {epochs} epoch(s); the learning-rate schedule is fitted to '
                'them')
