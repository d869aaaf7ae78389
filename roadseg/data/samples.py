"""Finding samples: pairing photos with labels, skipping what cannot be used, the seeded split."""
import os
import sys

import numpy as np

from roadseg.core.checks import check_seed, check_valid_fraction
from roadseg.data import images

# Independent random streams drawn from one seed.
SPLIT_STREAM, EPOCH_STREAM = 0, 1


def report_skipped(paths, why, limit=3):
    """Print one `[!]` line on stderr: how many files are skipped, why, and the first names."""
    if not paths:
        return
    names = ', '.join(os.path.basename(path) for path in paths[:limit])
    more = ', ...' if len(paths) > limit else ''
    print(f'[!] skipping {len(paths)} {why}: {names}{more}', file=sys.stderr)


def collect_samples(image_paths, label_path_for, what):
    """Return [(image_path, label_path)]: images paired with their labels, keeping only pairs
    whose two files look readable.

    label_path_for(image_path) gives the path the label should have (None when the image's name
    does not fit the layout). Images without a label and unreadable files (empty, or not an
    image by their header) are skipped and reported with a count and the first names.
    """
    pairs, unlabeled, unreadable = [], [], []
    for image_path in image_paths:
        label_path = label_path_for(image_path)
        if label_path is None or not os.path.isfile(label_path):
            unlabeled.append(image_path)
            continue
        broken = [path for path in (image_path, label_path) if not images.looks_like_image(path)]
        if broken:
            unreadable.extend(broken)
        else:
            pairs.append((image_path, label_path))
    report_skipped(unlabeled, f'{what} images without a label')
    report_skipped(unreadable, f'{what} files that are empty or not images (with their pairs)')
    return pairs


def split_samples(samples, valid_fraction, seed=0):
    """Return (train, valid), each sorted: a deterministic split for a seed.

    The samples are sorted first (the order files are listed in does not matter), then a
    generator seeded with `seed` picks round(n * valid_fraction) of them for validation: at
    least one when the fraction is positive and there are two samples or more, never all.
    """
    check_valid_fraction(valid_fraction)
    check_seed(seed)
    samples = sorted(samples)
    count = len(samples)
    num_valid = int(round(count * valid_fraction))
    if valid_fraction > 0 and count >= 2:
        num_valid = min(max(num_valid, 1), count - 1)
    else:
        num_valid = 0
    chosen = np.zeros(count, dtype=bool)
    chosen[np.random.default_rng([seed, SPLIT_STREAM]).permutation(count)[:num_valid]] = True
    train = [sample for sample, valid in zip(samples, chosen) if not valid]
    valid = [sample for sample, valid in zip(samples, chosen) if valid]
    return train, valid
