"""Cityscapes fine annotations: 29 classes in the official colours and layout.

    <data_dir>/leftImg8bit/{train,val}/<city>/<city>_<seq>_<frame>_leftImg8bit.png
    <data_dir>/gtFine/{train,val}/<city>/<city>_<seq>_<frame>_gtFine_color.png

The folders may also sit one level down, as the official archives unpack
(`leftImg8bit_trainvaltest/leftImg8bit`, `gtFine_trainvaltest/gtFine`). `train` is used for
training and `val` for validation; without a `val` folder, `train` is split by seed.
Colours outside the table (none in the official files) count as 'unlabeled'.
"""
import functools
import os

import utils

LAYOUT_HINT = ('download leftImg8bit_trainvaltest.zip and gtFine_trainvaltest.zip from '
               'https://www.cityscapes-dataset.com and unpack both into <data_dir>')
IMAGE_SUFFIX = '_leftImg8bit.png'
LABEL_SUFFIX = '_gtFine_color.png'

# (name, official Cityscapes label id, official RGB colour). 'unlabeled' also stands for the
# other black void labels (ego vehicle 1, rectification border 2, out of roi 3, static 4);
# 'pole' covers 'polegroup' (18) and 'car' the license plate, which share their colours.
LABELS = [
    ('unlabeled', 0, (0, 0, 0)),
    ('dynamic', 5, (111, 74, 0)),
    ('ground', 6, (81, 0, 81)),
    ('road', 7, (128, 64, 128)),
    ('sidewalk', 8, (244, 35, 232)),
    ('parking', 9, (250, 170, 160)),
    ('rail track', 10, (230, 150, 140)),
    ('building', 11, (70, 70, 70)),
    ('wall', 12, (102, 102, 156)),
    ('fence', 13, (190, 153, 153)),
    ('guard rail', 14, (180, 165, 180)),
    ('bridge', 15, (150, 100, 100)),
    ('tunnel', 16, (150, 120, 90)),
    ('pole', 17, (153, 153, 153)),
    ('traffic light', 19, (250, 170, 30)),
    ('traffic sign', 20, (220, 220, 0)),
    ('vegetation', 21, (107, 142, 35)),
    ('terrain', 22, (152, 251, 152)),
    ('sky', 23, (70, 130, 180)),
    ('person', 24, (220, 20, 60)),
    ('rider', 25, (255, 0, 0)),
    ('car', 26, (0, 0, 142)),
    ('truck', 27, (0, 0, 70)),
    ('bus', 28, (0, 60, 100)),
    ('caravan', 29, (0, 0, 90)),
    ('trailer', 30, (0, 0, 110)),
    ('train', 31, (0, 80, 100)),
    ('motorcycle', 32, (0, 0, 230)),
    ('bicycle', 33, (119, 11, 32)),
]

class Cityscapes(utils.ImageLabelSource):
    """Cityscapes with the 29 classes of the colour annotations."""

    image_size = (512, 256)
    num_classes = len(LABELS)
    class_names = [name for name, _, _ in LABELS]
    label_ids = [label_id for _, label_id, _ in LABELS]
    label_colors = {index: (b, g, r) for index, (_, _, (r, g, b)) in enumerate(LABELS)}
    unknown_class = 0  # 'unlabeled'

    def find_samples(self, data_dir, valid_fraction):
        """Training pairs from train/, validation pairs from val/ (or a split of train/)."""
        utils.require_directory(data_dir, 'Cityscapes', LAYOUT_HINT)
        images_dir = find_subdir(data_dir, 'leftImg8bit')
        labels_dir = find_subdir(data_dir, 'gtFine')
        label_for = functools.partial(label_path, images_dir, labels_dir)
        train_images = utils.find_files(os.path.join(images_dir, 'train'), IMAGE_SUFFIX, True)
        if not train_images:
            raise utils.UserError(f'no *{IMAGE_SUFFIX} photos under '
                                  f'{os.path.join(images_dir, "train")}; {LAYOUT_HINT}')
        train = utils.collect_samples(train_images, label_for, 'Cityscapes train')
        if not train:
            raise utils.UserError(f'none of the {len(train_images)} training photos has a '
                                  f'readable *{LABEL_SUFFIX} under {labels_dir}; {LAYOUT_HINT}')
        valid_images = utils.find_files(os.path.join(images_dir, 'val'), IMAGE_SUFFIX, True)
        if not valid_images:
            print(f'[i] Cityscapes: no val/ photos, so {valid_fraction:.0%} of train/ is held '
                  f'out for validation')
            return utils.split_samples(train, valid_fraction, self.seed)
        print('[i] Cityscapes: training on train/, validating on val/ (the official split; '
              'the validation fraction does not apply)')
        return sorted(train), utils.collect_samples(valid_images, label_for, 'Cityscapes val')


def find_subdir(data_dir, name):
    """data_dir/<name>, or data_dir/<name>_trainvaltest/<name> as the archives unpack."""
    for candidate in (os.path.join(data_dir, name),
                      os.path.join(data_dir, f'{name}_trainvaltest', name)):
        if os.path.isdir(candidate):
            return candidate
    raise utils.UserError(f'no {name} folder in {data_dir}; {LAYOUT_HINT}')


def label_path(images_dir, labels_dir, image_path):
    """Path of the colour label of a photo: same split and city, _gtFine_color.png."""
    relative = os.path.relpath(image_path, images_dir)
    folder, name = os.path.split(relative)
    return os.path.join(labels_dir, folder, name[:-len(IMAGE_SUFFIX)] + LABEL_SUFFIX)


def get_source():
    """The Cityscapes data source (see sources.py for the contract)."""
    return Cityscapes()
