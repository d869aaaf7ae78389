"""The benchmark's data parts.

* labels: encoding colour labels to one-hot against a loop over classes, and checking
  one-hot rows against a loop over pixels (as the original checker did).
* loader: images/s delivered by the threaded batch loader against one thread, and with the
  README's Cityscapes augmentation recipe (scaled 1-4x, 512x256 crops, colour jitter):
  what augmentation costs the input pipeline.
"""
import os

import numpy as np

from roadseg.bench.inputs import cityscapes_colors, colour_label, write_cityscapes
from roadseg.bench.timing import interleaved
from roadseg.data.augmentation import Augmentation
from roadseg.data.labels import check_one_hot, colors_to_class_map, one_hot
from roadseg.data.sources import load_source_data

LOADER_BATCH = 4   # batch size of the loader part
# Native-resolution windows of the 512x256 source, as a Cityscapes recipe takes them.
LOADER_AUGMENTATION = Augmentation(scale_range=(1.0, 4.0), crop=(512, 256), photometric=0.2)


# ---------------------------------------------------------------------- labels part

def encode_by_class_loop(label, colors, unknown_class):
    """One-hot labels by a loop over classes: a mask per colour, the rest unknown_class.

    The straightforward way, as the original Cityscapes source did it.
    """
    height, width = label.shape[:2]
    encoded = np.zeros([height, width, len(colors)], np.float32)
    matched = np.zeros([height, width], bool)
    for index in sorted(colors):
        if index == unknown_class:
            continue
        mask = np.all(label == np.array(colors[index], np.uint8), axis=2) & ~matched
        encoded[mask, index] = 1
        matched |= mask
    if 0 <= unknown_class < len(colors):
        encoded[~matched, unknown_class] = 1
    return encoded


def encode_vectorised(label, colors, unknown_class):
    """One-hot labels the project's way: labels.colors_to_class_map, then labels.one_hot."""
    return one_hot(colors_to_class_map(label, colors, unknown_class), len(colors))


def check_by_pixel_loop(labels):
    """Bad-row mask of one-hot labels [H, W, C] by a loop over pixels, as the original
    checker did: a row is valid when it has one non-zero entry and that entry is 1."""
    height, width = labels.shape[:2]
    bad = np.zeros([height, width], bool)
    for y in range(height):
        for x in range(width):
            row = labels[y, x]
            bad[y, x] = np.count_nonzero(row) != 1 or 1 not in row
    return bad


def corrupt(labels, rng, count=50):
    """Return a copy of one-hot labels with `count` rows made invalid in various ways."""
    labels = labels.copy()
    height, width, classes = labels.shape
    for index in range(count):
        y, x = rng.integers(height), rng.integers(width)
        kind = index % 4
        if kind == 0:
            labels[y, x] = 0                              # all zero
        elif kind == 1:
            labels[y, x, (np.argmax(labels[y, x]) + 1) % classes] = 1   # two ones
        elif kind == 2:
            labels[y, x] *= 0.5                            # one entry, not 1
        else:
            labels[y, x, 0] = np.nan
    return labels


def bench_labels(args):
    """Time encoding and checking of colour labels, vectorised against the loops."""
    colors, unknown = cityscapes_colors()
    rng = np.random.default_rng(0)
    count = args.label_images
    print(f'[i] Labels: {count} colour labels of {args.label_size[0]}x{args.label_size[1]}, '
          f'{len(colors)} Cityscapes colours', flush=True)
    labels = [colour_label(rng, args.label_size, colors) for _ in range(count)]
    encoded = [encode_vectorised(label, colors, unknown) for label in labels]
    same_encoding = all(np.array_equal(e, encode_by_class_loop(label, colors, unknown))
                        for e, label in zip(encoded, labels))
    checked = [corrupt(e, rng) for e in encoded]
    loop_items = checked[:args.check_loop_images]
    same_check = all(np.array_equal(check_one_hot(c).bad, check_by_pixel_loop(c))
                     for c in loop_items)
    times = interleaved({
        'encode loop': lambda: [encode_by_class_loop(lb, colors, unknown) for lb in labels],
        'encode vectorised': lambda: [encode_vectorised(lb, colors, unknown) for lb in labels],
        'check loop': lambda: [check_by_pixel_loop(c) for c in loop_items],
        'check vectorised': lambda: [check_one_hot(c) for c in checked],
    }, args, warmup=0, desc='labels')
    per_image = {key: 1000 * min(value) / (len(loop_items) if key == 'check loop' else count)
                 for key, value in times.items()}
    return {'images': count, 'check_loop_images': len(loop_items),
            'size': list(args.label_size), 'classes': len(colors),
            'ms_per_image': per_image,
            'encode_speedup': per_image['encode loop'] / per_image['encode vectorised'],
            'check_speedup': per_image['check loop'] / per_image['check vectorised'],
            'encode_identical': bool(same_encoding), 'check_identical': bool(same_check)}


# ---------------------------------------------------------------------- loader part

def load_in_one_thread(source, batch_size):
    """Load one training epoch of `source` batch by batch in this thread; return the count.

    The baseline of the threaded loader: the same samples, loaded and stacked one after
    another.
    """
    epoch = source.train_generator(batch_size)
    total = 0
    for start in range(0, len(epoch.files), batch_size):
        samples = [source.load_sample(f, transform) for f, transform in
                   zip(epoch.files[start:start + batch_size],
                       epoch.transforms[start:start + batch_size])]
        images = np.stack([image for image, _ in samples])
        np.stack([label for _, label in samples])
        total += len(images)
    return total


def bench_loader(args, work_dir):
    """Time the Cityscapes source's threaded batches against loading in one thread, and
    against threaded batches augmented as LOADER_AUGMENTATION says."""
    data_dir = os.path.join(work_dir, 'cityscapes')
    size = args.loader_file_size
    print(f'[i] Loader: {args.loader_images} Cityscapes-style pairs of {size[0]}x{size[1]}',
          flush=True)
    write_cityscapes(data_dir, args.loader_images, size)
    source = load_source_data('cityscapes', data_dir, 0.0)
    augmented = load_source_data('cityscapes', data_dir, 0.0)
    augmented.augmentation = LOADER_AUGMENTATION
    batch_size = LOADER_BATCH

    def threaded(loaded):
        return sum(len(images) for images, _ in loaded.train_generator(batch_size))

    times = interleaved({'threaded': lambda: threaded(source),
                         'one thread': lambda: load_in_one_thread(source, batch_size),
                         'threaded, augmented': lambda: threaded(augmented)},
                        args, warmup=1, desc='loader')
    workers = source.train_generator(batch_size).num_workers
    rates = {key: args.loader_images / min(value) for key, value in times.items()}
    return {'images': args.loader_images, 'file_size': list(size),
            'image_size': list(source.image_size), 'batch': batch_size, 'workers': workers,
            'images_per_s': rates, 'speedup': rates['threaded'] / rates['one thread'],
            'augmentation': {'scale_range': list(LOADER_AUGMENTATION.scale_range),
                             'crop': list(LOADER_AUGMENTATION.crop),
                             'photometric': LOADER_AUGMENTATION.photometric},
            'augmented_cost': rates['threaded'] / rates['threaded, augmented']}
