"""The threaded batch loader (batches.py): order, flips, bounded prefetch, errors, and how
many batches may wait ahead."""
import itertools
import threading
import time

import numpy as np
import pytest

from roadseg.core.errors import UserError
from roadseg.data.batches import (MAX_WORKERS, PREFETCH_BYTES, EpochBatches, default_workers,
                                  prefetch_depth)


class CountingLoader:
    """load_sample stand-in: a 2x2 image and label holding the sample's number."""

    def __init__(self, fail_at=None):
        self.calls = 0
        self.lock = threading.Lock()
        self.threads = set()
        self.fail_at = fail_at

    def __call__(self, files, flip):
        with self.lock:
            self.calls += 1
            self.threads.add(threading.get_ident())
        if files == self.fail_at:
            raise UserError(f'cannot decode {files}')
        value = -files if flip else files
        return (np.full((2, 2, 3), value, np.float32), np.full((2, 2, 1), value, np.float32))


def test_batches_keep_order_flips_and_last_partial_batch():
    loader = CountingLoader()
    flipped = [i % 3 == 0 for i in range(10)]
    batches = EpochBatches(list(range(10)), flipped, 4, loader, num_workers=2)
    assert len(batches) == 3
    got = [(images[:, 0, 0, 0].tolist(), labels.shape) for images, labels in batches]
    assert got == [([0, 1, 2, -3], (4, 2, 2, 1)), ([4, 5, -6, 7], (4, 2, 2, 1)),
                   ([8, -9], (2, 2, 2, 1))]
    assert loader.calls == 10
    assert threading.get_ident() not in loader.threads  # loaded by the workers
    assert [b[0].shape[0] for b in batches] == [4, 4, 2]  # iterating again replays the epoch


def test_batches_prefetch_is_bounded():
    loader = CountingLoader()
    batches = EpochBatches(list(range(200)), [False] * 200, 2, loader, num_workers=2,
                           prefetch=3)
    iterator = iter(batches)
    next(iterator)
    time.sleep(0.3)  # plenty for an unbounded loader to read all 200
    assert loader.calls <= (1 + 3) * 2
    iterator.close()
    settled = loader.calls
    time.sleep(0.1)
    assert loader.calls == settled  # stopping early stops the workers


def test_batches_raise_worker_errors_in_the_consumer():
    loader = CountingLoader(fail_at=5)
    batches = EpochBatches(list(range(8)), [False] * 8, 2, loader, num_workers=2)
    with pytest.raises(UserError, match='cannot decode 5'):
        list(batches)
    with pytest.raises(UserError, match='batch size must be a positive integer'):
        EpochBatches([1], [False], 0, loader)


def test_batches_of_nothing_is_an_empty_epoch():
    assert list(EpochBatches([], [], 3, CountingLoader())) == []
    assert list(itertools.islice(EpochBatches([1], [True], 3, CountingLoader()), 5))[0][
        0].tolist() == [[[[-1.0] * 3] * 2] * 2]


def test_prefetch_depth_is_two_batches_a_worker_within_the_byte_budget():
    assert prefetch_depth(2, (64, 32), 3, 4) == 8
    batch_bytes = 8 * 512 * 256 * (3 + 29) * 4            # 128 MiB of images and labels
    assert prefetch_depth(8, (512, 256), 29, 4) == PREFETCH_BYTES // batch_bytes == 4
    assert prefetch_depth(64, (2048, 1024), 29, 4) == 1    # over the budget: still one
    assert 1 <= default_workers() <= MAX_WORKERS
