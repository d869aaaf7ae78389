"""Cityscapes fine annotations: 29 classes in the official colours and layout.

    <data_dir>/leftImg8bit/{train,val}/<city>/<city>_<seq>_<frame>_leftImg8bit.png
    <data_dir>/gtFine/{train,val}/<city>/<city>_<seq>_<frame>_gtFine_labelIds.png
    <data_dir>/gtFine/{train,val}/<city>/<city>_<seq>_<frame>_gtFine_color.png

The folders may also sit one level down, as the official archives unpack
(`leftImg8bit_trainvaltest/leftImg8bit`, `gtFine_trainvaltest/gtFine`). `train` is used for
training and `val` for validation; without a `val` folder, `train` is split by seed. A folder
with only `val` can be scored (infer.py --evaluate --data-dir).

Labels are read from the `_labelIds` files where they exist, else from the `_color` files.
The classes are the official labels with a colour of their own; in the colour files the
other black void labels read as 'unlabeled', polegroup as 'pole' (same colour). In the
label-id files those are right: ego vehicle, rectification border, out of roi and static are
'unlabeled' (black), and polegroup, which the benchmark ignores, is "don't care".
"""
import functools
import os

import numpy as np

import utils
from roadseg.data import cityscapes_labels

LAYOUT_HINT = ('download leftImg8bit_trainvaltest.zip and gtFine_trainvaltest.zip from '
               'https://www.cityscapes-dataset.com and unpack both into <data_dir>')
IMAGE_SUFFIX = '_leftImg8bit.png'
LABEL_SUFFIXES = ('_gtFine_labelIds.png', '_gtFine_color.png')   # preferred first

# Every official label whose colour no label before it has: 29 of them.
_COLOURED = {}
for _label in cityscapes_labels.LABELS:
    _COLOURED.setdefault(_label.color, _label)
LABELS = [(label.name, label.id, label.color) for label in _COLOURED.values()]


def id_lookup(label_ids, black_class=0):
    """Return a table from label id (0..255) to class index of `label_ids`: black void
    labels to `black_class` (0, 'unlabeled', here), every other id without a class to -1
    (don't care)."""
    table = np.full(256, -1, np.int32)
    black = [l.id for l in cityscapes_labels.LABELS if l.color == (0, 0, 0) and l.id >= 0]
    table[black] = black_class
    for index, label_id in enumerate(label_ids):
        table[label_id] = index
    return table


class Cityscapes(utils.ImageLabelSource):
    """Cityscapes with the 29 classes of the colour annotations."""

    image_size = (512, 256)
    num_classes = len(LABELS)
    class_names = [name for name, _, _ in LABELS]
    label_ids = [label_id for _, label_id, _ in LABELS]
    label_colors = {index: (b, g, r) for index, (_, _, (r, g, b)) in enumerate(LABELS)}
    unknown_class = 0  # 'unlabeled'
    ignores_pixels = True   # polegroup in the label-id files
    benchmark = 'cityscapes'
    class_of_id = id_lookup(label_ids)   # label id -> class index, for the label-id files

    def label_image(self, label_path):
        """Return a label-id file as it is (one channel), or a colour file in BGR."""
        if not label_path.endswith(LABEL_SUFFIXES[0]):
            return super().label_image(label_path)
        label_ids = utils.read_image(label_path, unchanged=True)
        if label_ids.ndim != 2:
            raise utils.UserError(f'{label_path} is not a one-channel label-id image')
        return label_ids

    def classes_of(self, label):
        """Return the class map of label ids [H, W] or of a colour label [H, W, 3] (see
        the module's note)."""
        if label.ndim == 2:
            return self.class_of_id[label]
        return super().classes_of(label)

    def find_samples(self, data_dir, valid_fraction):
        """Training pairs from train/, validation pairs from val/ (or a split of train/)."""
        utils.require_directory(data_dir, 'Cityscapes', LAYOUT_HINT)
        images_dir = find_subdir(data_dir, 'leftImg8bit')
        labels_dir = find_subdir(data_dir, 'gtFine')
        label_for = functools.partial(label_path, images_dir, labels_dir)
        found = {split: utils.find_files(os.path.join(images_dir, split), IMAGE_SUFFIX, True)
                 for split in ('train', 'val')}
        if not found['train'] and not found['val']:
            raise utils.UserError(f'no *{IMAGE_SUFFIX} photos under {images_dir}/train or '
                                  f'/val; {LAYOUT_HINT}')
        pairs = {split: utils.collect_samples(paths, label_for, f'Cityscapes {split}')
                 for split, paths in found.items()}
        for split, paths in found.items():
            if paths and not pairs[split]:
                raise utils.UserError(f'none of the {len(paths)} {split} photos has a readable '
                                      f'label (*{LABEL_SUFFIXES[0]} or *{LABEL_SUFFIXES[1]}) '
                                      f'under {labels_dir}; {LAYOUT_HINT}')
        if not found['val']:
            print(f'[i] Cityscapes: no val/ photos, so {valid_fraction:.0%} of train/ is held '
                  f'out for validation')
            return utils.split_samples(pairs['train'], valid_fraction, self.seed)
        print('[i] Cityscapes: validating on val/ (the official split; the validation '
              'fraction does not apply)')
        return sorted(pairs['train']), pairs['val']


def find_subdir(data_dir, name):
    """data_dir/<name>, or data_dir/<name>_trainvaltest/<name> as the archives unpack."""
    for candidate in (os.path.join(data_dir, name),
                      os.path.join(data_dir, f'{name}_trainvaltest', name)):
        if os.path.isdir(candidate):
            return candidate
    raise utils.UserError(f'no {name} folder in {data_dir}; {LAYOUT_HINT}')


def label_path(images_dir, labels_dir, image_path):
    """Path of the label of a photo (same split and city): its _gtFine_labelIds.png if it
    exists, else its _gtFine_color.png."""
    relative = os.path.relpath(image_path, images_dir)
    folder, name = os.path.split(relative)
    stem = os.path.join(labels_dir, folder, name[:-len(IMAGE_SUFFIX)])
    for suffix in LABEL_SUFFIXES:
        if os.path.isfile(stem + suffix):
            return stem + suffix
    return stem + LABEL_SUFFIXES[1]


def get_source():
    """The Cityscapes data source (see roadseg/data/sources.py for the contract)."""
    return Cityscapes()
