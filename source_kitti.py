"""KITTI Road: road / not road, in the layout `data_road.zip` unpacks to.

    <data_dir>/training/image_2/<cat>_<n>.png          photos (cat: um, umm, uu)
    <data_dir>/training/gt_image_2/<cat>_road_<n>.png  labels: magenta road, red not road,
                                                       black = not evaluated ("don't care")

`data_dir` may also be the folder holding `data_road/` or the `training/` folder itself.
"""
import functools
import os
import re

import utils

LAYOUT_HINT = ('download data_road.zip from https://www.cvlibs.net/datasets/kitti/eval_road.php '
               'and unpack it so that <data_dir>/training/image_2 and '
               '<data_dir>/training/gt_image_2 exist')
IMAGE_NAME = re.compile(r'([a-z]+)_(\d+)\.png', re.IGNORECASE)


class KittiRoad(utils.ImageLabelSource):
    """The KITTI Road benchmark's training set, split into training and validation by seed."""

    image_size = (576, 160)
    num_classes = 2
    class_names = ['background', 'road']
    label_colors = {0: (0, 0, 255),    # RGB 255,0,0: not road
                    1: (255, 0, 255)}  # RGB 255,0,255: road
    # Black marks the area the benchmark does not evaluate; it, and any colour the benchmark
    # does not use, becomes an all-zero row that training and metrics leave out.
    ignores_pixels = True
    unknown_class = -1
    benchmark = 'kitti_road'   # class 1 is road: its probability is the submitted confidence

    def find_samples(self, data_dir, valid_fraction):
        """Pair every training photo with its road label, then split by seed."""
        utils.require_directory(data_dir, 'KITTI Road', LAYOUT_HINT)
        training_dir = find_training_dir(data_dir)
        images = utils.find_files(os.path.join(training_dir, 'image_2'), '.png')
        if not images:
            raise utils.UserError(f'no PNG photos in {os.path.join(training_dir, "image_2")}; '
                                  f'{LAYOUT_HINT}')
        pairs = utils.collect_samples(images, functools.partial(label_path, training_dir),
                                      'KITTI Road')
        if not pairs:
            raise utils.UserError(f'none of the {len(images)} photos in {training_dir} has a '
                                  f'readable label in gt_image_2 (e.g. um_road_000000.png for '
                                  f'um_000000.png); {LAYOUT_HINT}')
        return utils.split_samples(pairs, valid_fraction, self.seed)


def find_training_dir(data_dir):
    """The `training` folder: under data_dir, under data_dir/data_road, or data_dir itself."""
    for candidate in (os.path.join(data_dir, 'training'),
                      os.path.join(data_dir, 'data_road', 'training'),
                      data_dir):
        if os.path.isdir(os.path.join(candidate, 'image_2')):
            return candidate
    raise utils.UserError(f'no KITTI Road training set in {data_dir}: {LAYOUT_HINT}')


def label_path(training_dir, image_path):
    """Path of the road label of a photo (um_000012.png -> um_road_000012.png), or None."""
    match = IMAGE_NAME.fullmatch(os.path.basename(image_path))
    if match is None:
        return None
    category, number = match.groups()
    return os.path.join(training_dir, 'gt_image_2', f'{category}_road_{number}.png')


def get_source():
    """The KITTI Road data source (see roadseg/data/sources.py for the contract)."""
    return KittiRoad()
