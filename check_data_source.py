#!/usr/bin/env python3
"""Check a data source before training on it.

    python check_data_source.py kitti data/kitti checked/ --samples 10

Prints the source's summary, writes N training samples blended with their labels as PNG
files (to see whether the colours mean what they should; with main.py's augmentation flags,
--scale-range, --crop and --photometric, augmented as the network would see them, from the
first training epoch of --seed), then checks every pixel of every
training and validation sample: each label row must be one-hot (exactly one 1, all else 0),
or all zero where the source marks pixels "don't care" (`ignores_pixels`), which are counted
apart. Exit status 0 when every label is valid, 1 otherwise. Works with any source written to
the data source contract.
"""
import contextlib
import os
import sys

import numpy as np
from tqdm import tqdm

from roadseg.core.errors import ArgumentParser, UserError, run_script
from roadseg.core.files import make_directory
from roadseg.data import augmentation, sources
from roadseg.data.drawing import blend_labels
from roadseg.data.images import quiet_opencv, write_image
from roadseg.data.labels import check_one_hot, first_coordinates, labels_to_class_map

VALID_FRACTION = 0.1  # the split only moves samples between the two checks; all are checked
BATCH_SIZE = 4
MAX_COORDINATES = 5


def parse_args(argv=None):
    """The command line: SOURCE DATA_DIR OUTPUT_DIR [--samples N]."""
    parser = ArgumentParser(
        description='Check that a data source gives valid one-hot labels for every pixel, and '
                    'write training samples blended with their labels for a look.',
        epilog='Exit status: 0 when all labels are valid, 1 when any is not (or the data '
               'cannot be loaded).')
    parser.add_argument('source', metavar='SOURCE',
                        help='data source name: the module source_<SOURCE>.py next to the '
                             'scripts or on the Python path (here: '
                             f'{", ".join(sources.available_sources())})')
    parser.add_argument('data_dir', metavar='DATA_DIR', help='the data set\'s directory')
    parser.add_argument('output_dir', metavar='OUTPUT_DIR',
                        help='where the blended samples go (created if missing)')
    parser.add_argument('--samples', type=int, default=10, metavar='N',
                        help='number of training samples to write blended with their labels '
                             '(default: %(default)s; 0 writes none)')
    parser.add_argument('--seed', type=int, default=0,
                        help='seed of the split and of the examples\' shuffle, flips and '
                             'augmentation, as main.py --seed (default: %(default)s)')
    augmentation.add_flags(parser)
    return parser.parse_args(argv)


def main(argv=None):
    """Load the source, describe it, write examples, check all labels; return exit status."""
    args = parse_args(argv)
    if args.samples < 0:
        raise UserError(f'--samples must be 0 or more, not {args.samples}')
    quiet_opencv()
    shown = augmentation.Augmentation(args.scale_range, args.crop, args.photometric or 0.0)
    source = sources.load_source_data(args.source, args.data_dir, VALID_FRACTION, args.seed)
    print_summary(source, args.source)
    with augmented(source, args.source, shown):
        write_examples(source, args.source, args.samples, args.output_dir)
    reports = [check_split(source, split, sources.split_batches(source, args.source, split,
                                                                BATCH_SIZE), expected)
               for split, expected in (('training', source.num_training),
                                       ('validation', source.num_validation))]
    invalid = check_label_values(source)
    return max(print_verdict(reports), 1 if invalid else 0)


def check_label_values(source):
    """Print a `[!]` line per label file holding values the source reads as don't care but
    no valid file holds (its optional `invalid_label_values`); return how many files."""
    invalid_values = sources.optional(source, 'invalid_label_values')
    files = (sources.optional(source, 'train_files') or []) + \
        (sources.optional(source, 'valid_files') or [])
    if invalid_values is None or not files:
        return 0
    bad = 0
    for _, label_path in tqdm(files, desc='Checking label values', unit='file'):
        found = invalid_values(label_path)
        if found:
            bad += 1
            values = ', '.join(f'{value} ({counted(pixels, "pixel")})'
                               for value, pixels in sorted(found.items()))
            tqdm.write(f'[!] {label_path}: label value(s) outside the source\'s classes and '
                       f'void: {values}', file=sys.stdout)
    if bad:
        print(f'[!] {counted(bad, "label file")} hold values outside the source\'s table '
              '(read as don\'t care): fix the files or the source')
    return bad


def print_summary(source, name):
    """What the source is: size, classes and colours, sample counts, don't-care policy."""
    width, height = source.image_size
    names = list(sources.optional(source, 'class_names') or [])
    print(f'[i] Data source: {name} ({type(source).__module__}.py)')
    print(f'[i] Image size: {width}x{height}')
    print(f'[i] Classes: {source.num_classes}')
    colors = ', '.join(f'{class_label(index, names)} {tuple(int(c) for c in color)}'
                       for index, color in sorted(source.label_colors.items()))
    print(f'[i] Label colours (B, G, R): {colors}')
    print(f'[i] Training samples: {source.num_training}')
    print(f'[i] Validation samples: {source.num_validation}')
    if sources.optional(source, 'ignores_pixels'):
        print('[i] Don\'t-care pixels (all-zero rows): allowed, the source sets ignores_pixels')
    else:
        print('[i] Don\'t-care pixels: none allowed, every row must be one-hot')


@contextlib.contextmanager
def augmented(source, name, wanted):
    """Within `with`, the source's training split is augmented as `wanted`; after it, not,
    so that the check reads the files as they are and its coordinates point into them."""
    if not wanted.active:
        yield
        return
    if not sources.set_optional(source, 'augmentation', wanted):
        raise UserError(f'data source {name!r} does not augment (it has no `augmentation` '
                        'attribute): leave out --scale-range, --crop and --photometric')
    crop = '{}x{}'.format(*wanted.sample_size(source.image_size))
    print(f'[i] Examples augmented: scale {wanted.scale_range or "1"} of the image size, '
          f'{crop} windows, photometric {wanted.photometric:g}')
    try:
        yield
    finally:
        sources.set_optional(source, 'augmentation', augmentation.Augmentation())


def class_label(index, names):
    """'3 road' when the source names its classes, else '3'."""
    return f'{index} {names[index]}' if index < len(names) else str(index)


def write_examples(source, name, count, output_dir):
    """Write the first `count` training samples blended with their label colours as PNG."""
    if count == 0:
        return
    make_directory(output_dir, 'output directory')
    count = min(count, source.num_training)
    batches = sources.split_batches(source, name, 'training', BATCH_SIZE)
    files = sources.optional_of_batches(batches, 'files')
    written = 0
    for images, labels in batches:
        for image, label in zip(images, labels):
            if written == count:
                break
            stem = f'_{os.path.splitext(os.path.basename(files[written][0]))[0]}' if files else ''
            blended = blend_labels(image, labels_to_class_map(label),
                                   source.label_colors)
            write_image(os.path.join(output_dir, f'sample_{written:03d}{stem}.png'), blended)
            written += 1
        if written == count:
            break
    print(f'[i] Wrote {written} training samples blended with their labels to {output_dir}')


class SplitReport:
    """Counts for one split."""

    def __init__(self, split, expected):
        self.split, self.expected = split, expected
        self.samples = self.pixels = self.bad_pixels = self.ignored_pixels = 0
        self.bad_samples = 0


def check_split(source, split, batches, expected):
    """Check every label row of one split; print a line per bad sample; return the counts."""
    report = SplitReport(split, expected)
    allow_zero = bool(sources.optional(source, 'ignores_pixels'))
    files = sources.optional_of_batches(batches, 'files')
    flipped = sources.optional_of_batches(batches, 'flipped')
    with tqdm(total=expected, desc=f'Checking {split}', unit='sample') as bar:
        for images, labels in batches:
            check_shapes(source, split, images, labels)
            check = check_one_hot(labels, allow_zero_rows=allow_zero)
            bad_counts = check.bad.sum(axis=(1, 2))
            for i in np.flatnonzero(bad_counts):  # only the bad samples, usually none
                index = report.samples + i
                name = files[index][1] if files else f'{split} sample {index}'
                mirrored = bool(flipped and flipped[index])
                tqdm.write(describe_bad_sample(name, check.bad[i], check.zero[i], mirrored),
                           file=sys.stdout)
            report.samples += len(labels)
            report.pixels += int(np.prod(labels.shape[:3]))
            report.bad_pixels += int(bad_counts.sum())
            report.bad_samples += int(np.count_nonzero(bad_counts))
            if allow_zero:
                report.ignored_pixels += int(check.zero.sum())
            bar.update(len(labels))
    return report


def check_shapes(source, split, images, labels):
    """Raise `UserError` unless a batch has the contract's shapes and dtype."""
    width, height = source.image_size
    images, labels = np.asarray(images), np.asarray(labels)
    batch = len(images)
    expected = {'images': ((batch, height, width, 3), images),
                'labels': ((batch, height, width, source.num_classes), labels)}
    for what, (shape, array) in expected.items():
        if array.shape != shape or array.dtype != np.float32:
            raise UserError(
                f'the {split} batches hold {what} of shape {list(array.shape)} and type '
                f'{array.dtype}; the contract wants float32 {list(shape)} ([batch, height, '
                f'width, {"3" if what == "images" else "num_classes"}])')


def describe_bad_sample(name, bad, zero, mirrored):
    """One line: how many pixels of a sample are bad, of which kind, and where the first are.

    Coordinates are (x, y) in the label as the source gives it (at image_size); for a sample
    the source mirrored, they are mirrored back so that they point into the file.
    """
    if mirrored:
        bad, zero = bad[:, ::-1], zero[:, ::-1]
    coordinates = first_coordinates(bad, MAX_COORDINATES)
    count = int(bad.sum())
    zero_rows = int((bad & zero).sum())
    kinds = []
    if zero_rows:
        kinds.append(f'{zero_rows} all zero')
    if count - zero_rows:
        kinds.append(f'{count - zero_rows} not one-hot')
    where = ', '.join(f'({x}, {y})' for x, y in coordinates)
    more = ', ...' if count > len(coordinates) else ''
    return f'[!] {name}: {counted(count, "bad pixel")} ({", ".join(kinds)}) at {where}{more}'


def counted(number, noun):
    """'1 sample', '12,288 pixels'."""
    return f'{number:,} {noun}{"" if number == 1 else "s"}'


def print_verdict(reports):
    """A summary line per split and the verdict; returns the exit status."""
    status = 0
    for report in reports:
        ignored = (f', {report.ignored_pixels:,} don\'t care (counted apart)'
                   if report.ignored_pixels else '')
        line = (f'{report.split}: {counted(report.samples, "sample")}, '
                f'{counted(report.pixels, "pixel")}, {report.bad_pixels:,} bad in '
                f'{counted(report.bad_samples, "sample")}{ignored}')
        print(f'[{"!" if report.bad_pixels else "i"}] {line}')
        if report.samples != report.expected:
            print(f'[!] {report.split}: the generator gave {report.samples} samples, but the '
                  f'source says {report.expected}')
            status = 1
        if report.bad_pixels:
            status = 1
    if status:
        print('[!] Some labels are not valid one-hot rows: fix the data or the source before '
              'training (the lines above name the files)')
    else:
        print('[i] All labels are valid')
    return status


if __name__ == '__main__':
    run_script(main)
