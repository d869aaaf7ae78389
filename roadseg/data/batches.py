"""Batches prepared by worker threads ahead of the training loop, in bounded memory."""
import collections
import concurrent.futures
import itertools
import os

import numpy as np

from roadseg.core.checks import check_batch_size

MAX_WORKERS = 4
PREFETCH_BYTES = 512 * 2 ** 20  # batches prepared ahead never take more memory than this


def default_workers():
    """Return the number of loader threads: one per core, up to MAX_WORKERS."""
    return min(MAX_WORKERS, os.cpu_count() or 1)


class EpochBatches:
    """One epoch of batches, prepared by worker threads ahead of the consumer.

    Iterating yields (images float32 [B, H, W, 3], labels float32 [B, H, W, C]) in the order of
    `files`; the last batch may be smaller. Each worker loads whole batches with
    `load_sample(files[i], transforms[i])`, where a sample's transform is True or False
    (mirrored or not) or an augmentation.SampleTransform; at most `prefetch` batches are in
    flight, so memory stays bounded however slow the consumer is. OpenCV's decoding and
    resizing release the GIL, so threads overlap well. An error in a worker (e.g.
    `UserError` for a corrupt file) is raised in the consumer when it reaches that batch.
    Iterating again replays the epoch.

    Attributes for tools such as check_data_source.py: `files`, the (image, label) pairs in
    the order they are yielded, and `flipped`, True for each sample that is mirrored.
    """

    def __init__(self, files, transforms, batch_size, load_sample, num_workers=None,
                 prefetch=None):
        check_batch_size(batch_size)
        self.files = list(files)
        self.transforms = list(transforms)
        self.flipped = [bool(getattr(t, 'flip', t)) for t in self.transforms]
        self.batch_size = int(batch_size)
        self.load_sample = load_sample
        self.num_workers = num_workers or default_workers()
        self.prefetch = prefetch or 2 * self.num_workers

    def __len__(self):
        """Return the number of batches in the epoch."""
        return -(-len(self.files) // self.batch_size)

    def __iter__(self):
        starts = iter(range(0, len(self.files), self.batch_size))
        executor = concurrent.futures.ThreadPoolExecutor(self.num_workers,
                                                         thread_name_prefix='batch-loader')
        pending = collections.deque(executor.submit(self._load_batch, start)
                                    for start in itertools.islice(starts, self.prefetch))
        try:
            while pending:
                batch = pending.popleft().result()
                start = next(starts, None)
                if start is not None:
                    pending.append(executor.submit(self._load_batch, start))
                yield batch
        finally:
            # Reached on the end, on an error and when the consumer stops early: drop the
            # batches nobody will take.
            executor.shutdown(wait=False, cancel_futures=True)

    def _load_batch(self, start):
        """Load and stack the samples of the batch that begins at index `start`."""
        stop = min(start + self.batch_size, len(self.files))
        samples = [self.load_sample(self.files[i], self.transforms[i])
                   for i in range(start, stop)]
        images = np.stack([image for image, _ in samples])
        labels = np.stack([label for _, label in samples])
        return images, labels


def prefetch_depth(batch_size, image_size, num_classes, num_workers):
    """Return how many batches may wait ahead: two per worker, within PREFETCH_BYTES."""
    width, height = image_size
    batch_bytes = max(1, int(batch_size)) * width * height * (3 + num_classes) * 4
    return max(1, min(2 * num_workers, PREFETCH_BYTES // batch_bytes))
