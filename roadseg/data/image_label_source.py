"""`ImageLabelSource`: the base of every data source made of photos and colour-label files."""
import os

import numpy as np

from roadseg.core.checks import check_seed, check_valid_fraction
from roadseg.core.errors import UserError
from roadseg.data import batches, labels, resizing
from roadseg.data.augmentation import Augmentation, SampleTransform, transform_sample
from roadseg.data.images import read_image
from roadseg.data.samples import EPOCH_STREAM

LABEL_SPOT_CHECKS = 8   # labels read to see that some colour is known


class ImageLabelSource:
    """Base of the built-in sources: image files paired with colour-label files.

    A subclass sets `image_size`, `num_classes`, `label_colors`, `class_names` (and, when its
    data has them, `ignores_pixels` and `unknown_class`) and implements
    `find_samples(data_dir, valid_fraction) -> (train pairs, validation pairs)`. This class
    does the rest of the data-source contract: reading, nearest-neighbour label resizing,
    colour lookup, one-hot encoding, seeded shuffles, flips and augmentation
    (augmentation.py; main.py sets `augmentation`), and threaded batching.
    """

    image_size = None
    num_classes = None
    label_colors = {}
    class_names = []
    ignores_pixels = False
    unknown_class = -1  # class of colours outside label_colors; -1 is an all-zero row
    benchmark = None    # 'cityscapes' or 'kitti_road' (see roadseg/score/submissions.py)

    def __init__(self):
        self.seed = 0  # main.py sets it from --seed; drives the split, shuffles and flips
        self.epoch = 0  # number of the next training epoch: each has its own shuffle
        self.num_workers = None  # None: up to batches.MAX_WORKERS, one per core
        self.validation_only = False  # True: no training split; every sample is scored
        self.augmentation = Augmentation()  # of the training split; the default only flips
        self.train_files, self.valid_files = [], []
        self.num_training = self.num_validation = 0

    def find_samples(self, data_dir, valid_fraction):
        """Return (train, valid) lists of (image_path, label_path); each source implements it."""
        raise NotImplementedError

    def load_data(self, data_dir, valid_fraction):
        """Find the samples in `data_dir` and split them; raises `UserError` when there are
        none or the directory is missing."""
        check_valid_fraction(valid_fraction)
        check_seed(self.seed)
        data_dir = os.path.expanduser(str(data_dir))
        if self.validation_only:
            # The data's own validation split where it has one, else every labelled pair.
            train, valid = self.find_samples(data_dir, 0.0)
            train, valid = [], sorted(valid or train)
        else:
            train, valid = self.find_samples(data_dir, valid_fraction)
        if not train and not valid:
            raise UserError(f'no usable samples in {data_dir}')
        self.train_files, self.valid_files = list(train), list(valid)
        self.num_training, self.num_validation = len(self.train_files), len(self.valid_files)
        self.epoch = 0
        self.check_some_label_is_known()

    def check_some_label_is_known(self):
        """Raise `UserError` when no label pixel has a colour of `label_colors`, so that a
        data set whose labels mean nothing stops before training instead of training on
        nothing. A few labels spread over the data are read; only if none of them has a
        known colour are all the others read too."""
        if self.unknown_class >= 0:      # unknown colours count as a class: all labelled
            return
        files = self.train_files + self.valid_files
        spread = files[::max(1, len(files) // LABEL_SPOT_CHECKS)][:LABEL_SPOT_CHECKS]
        rest = [pair for pair in files if pair not in spread]
        for _, label_path in spread + rest:
            if (self.read_label(label_path) >= 0).any():
                return
        colours = ', '.join(f'{tuple(c)}' for c in self.label_colors.values())
        raise UserError(f'none of the {len(files)} label files in {os.path.dirname(files[0][1])} '
                        f'holds a colour of this source (B, G, R: {colours}), so every pixel '
                        'would be "don\'t care": are these the right label files?')

    def label_image(self, label_path):
        """Return a label file as stored (here a BGR colour image), for `classes_of`."""
        return read_image(label_path)

    def classes_of(self, label):
        """Return the class map [H, W] of a label image as `label_image` gives it (-1:
        don't care)."""
        return labels.colors_to_class_map(label, self.label_colors, self.unknown_class)

    def read_label(self, label_path, size=None, image=None):
        """Return the class map [H, W] of a label file (-1: don't care), resized by nearest
        neighbour to `size` (width, height) if given, else at the file's size. `image` is
        the file already decoded (`label_image`), to save reading it twice."""
        label = self.label_image(label_path) if image is None else image
        if size is not None:
            label = resizing.resize_label(label, size)
        return self.classes_of(label)

    def load_sample(self, files, transform=False):
        """Return one sample from its (image, label) files: float32 BGR image [H, W, 3] and
        float32 one-hot labels [H, W, num_classes]. `transform`: True or False, mirrored or
        not, at image_size; or an augmentation.SampleTransform, at the augmentation's
        sample size."""
        image_path, label_path = files
        if isinstance(transform, SampleTransform):
            image, classes = transform_sample(
                read_image(image_path), self.label_image(label_path), self.classes_of,
                self.image_size, self.augmentation.sample_size(self.image_size), transform)
            return image, labels.one_hot(classes, self.num_classes)
        image = resizing.resize_photo(read_image(image_path), self.image_size)
        classes = self.read_label(label_path, self.image_size)
        if transform:
            image, classes = image[:, ::-1], classes[:, ::-1]
        return image.astype(np.float32), labels.one_hot(classes, self.num_classes)

    def train_generator(self, batch_size):
        """Return the next training epoch: shuffled by a generator seeded with (seed, epoch
        number), each sample mirrored left-right with probability 1/2 and augmented as
        `augmentation` says, by random numbers of the same generator."""
        rng = np.random.default_rng([self.seed, EPOCH_STREAM, self.epoch])
        self.epoch += 1
        order = rng.permutation(len(self.train_files))
        flipped = rng.random(len(order)) < 0.5
        transforms = self.augmentation.draw_transforms(rng, flipped)
        return self._batches([self.train_files[i] for i in order], transforms, batch_size,
                             self.augmentation.sample_size(self.image_size))

    def valid_generator(self, batch_size):
        """Return all validation samples as batches at image_size, in a fixed order, never
        mirrored or augmented."""
        return self._batches(self.valid_files, [False] * len(self.valid_files), batch_size,
                             self.image_size)

    def _batches(self, files, transforms, batch_size, sample_size):
        """Return an `EpochBatches` whose prefetch queue fits in PREFETCH_BYTES."""
        workers = self.num_workers or batches.default_workers()
        prefetch = batches.prefetch_depth(batch_size, sample_size, self.num_classes, workers)
        return batches.EpochBatches(files, transforms, batch_size, self.load_sample, workers,
                                    prefetch)
