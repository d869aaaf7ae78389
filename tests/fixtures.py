"""Files the tests write for themselves: tiny data sets in the real layouts, and photos."""
import os

import cv2
import numpy as np

# Data sources that exist only for the tests (source_<name>.py files).
TEST_SOURCES = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'sources')


def write_road_photos_kitti(data_dir, count=6, size=(400, 120), seed=0):
    """Write a KITTI Road training set of `count` noisy photos; return `data_dir`.

    Each label is red (not road) with a darker magenta road block in the lower middle and a
    black (don't care) band on top, the colours of the real gt_image_2 files.
    """
    width, height = size
    images = os.path.join(data_dir, 'training', 'image_2')
    labels = os.path.join(data_dir, 'training', 'gt_image_2')
    os.makedirs(images, exist_ok=True)
    os.makedirs(labels, exist_ok=True)
    rng = np.random.default_rng(seed)
    road = (slice(height // 2, None), slice(width // 4, 3 * width // 4))
    for index in range(count):
        photo = (rng.random((height, width, 3)) * 255).astype(np.uint8)
        label = np.zeros((height, width, 3), np.uint8)
        label[:] = (0, 0, 255)
        label[road] = (255, 0, 255)
        photo[road] //= 3
        label[:10] = 0
        cv2.imwrite(os.path.join(images, f'um_{index:06d}.png'), photo)
        cv2.imwrite(os.path.join(labels, f'um_road_{index:06d}.png'), label)
    return str(data_dir)


def road_photo(width, height, seed):
    """Return a road-ish uint8 BGR photo of the given size: sky above grey road, with noise."""
    rng = np.random.RandomState(seed)
    image = np.zeros([height, width, 3], np.uint8)
    image[:height // 2] = (200, 150, 90)
    image[height // 2:] = (90, 90, 90)
    return np.clip(image + rng.normal(0, 10, image.shape), 0, 255).astype(np.uint8)


# KITTI label colours as BGR.
RED, MAGENTA, BLACK = (0, 0, 255), (255, 0, 255), (0, 0, 0)
LABEL_SIZE = (100, 50)  # (width, height) of the files the tests write


def nearest_rows(source_length, target_length):
    """Source index each target index copies under exact nearest-neighbour resizing, computed
    from the formula rather than by OpenCV: floor((i + 0.5) * source / target)."""
    return np.floor((np.arange(target_length) + 0.5) * source_length / target_length).astype(int)


def kitti_label(index):
    """Label of KITTI sample `index`: red left of column 20 + 10 * index, magenta right of
    it, black (don't care) on rows 40..49."""
    width, height = LABEL_SIZE
    label = np.zeros((height, width, 3), dtype=np.uint8)
    label[:, :road_start(index)] = RED
    label[:, road_start(index):] = MAGENTA
    label[40:] = BLACK
    return label


def road_start(index):
    """First road column of KITTI sample `index` in the written file."""
    return 20 + 10 * index


def write_kitti(root, count=5, category='um'):
    """A KITTI Road training set: photo i is filled with BGR (10 * i, 100, 200)."""
    images = os.path.join(root, 'training', 'image_2')
    labels = os.path.join(root, 'training', 'gt_image_2')
    os.makedirs(images, exist_ok=True)
    os.makedirs(labels, exist_ok=True)
    for index in range(count):
        photo = np.full((LABEL_SIZE[1], LABEL_SIZE[0], 3), (10 * index, 100, 200), np.uint8)
        cv2.imwrite(os.path.join(images, f'{category}_{index:06d}.png'), photo)
        cv2.imwrite(os.path.join(labels, f'{category}_road_{index:06d}.png'), kitti_label(index))
    return root


def sample_index(image):
    """Which sample a photo came from (its blue channel is 10 * index)."""
    return int(round(image[0, 0, 0] / 10))


def source_text(name, old=None, new=None):
    """Return the text of tests/sources/source_<name>.py, with `old` replaced by `new` when
    given (`old` must be in it, so that a changed file cannot make the variant a no-op)."""
    with open(os.path.join(TEST_SOURCES, f'source_{name}.py')) as handle:
        text = handle.read()
    if old is None:
        return text
    assert old in text, (name, old)
    return text.replace(old, new)


# The README's example source (MyData): its label colours, as BGR, and the size of the files
# the tests write in its layout.
MY_DATA_COLORS = {0: (0, 0, 0), 1: (128, 64, 128), 2: (142, 0, 0)}
MY_DATA_SIZE = (80, 40)


def my_data_classes(index):
    """Class map of sample `index` in the README example's layout, at MY_DATA_SIZE:
    background (0) above row 20, road (1) below, a car (2) on rows 25..34, columns
    10 + index..29 + index."""
    width, height = MY_DATA_SIZE
    classes = np.zeros((height, width), np.int32)
    classes[20:] = 1
    classes[25:35, 10 + index:30 + index] = 2
    return classes


def write_my_data(root, count=10):
    """A data set in the layout of the README's example source, `images/<n>.png` beside
    `labels/<n>.png`: label n paints my_data_classes(n) in MY_DATA_COLORS, photo n is its
    label plus 50. Returns `root`."""
    for part in ('images', 'labels'):
        os.makedirs(os.path.join(root, part), exist_ok=True)
    palette = np.array([MY_DATA_COLORS[c] for c in range(len(MY_DATA_COLORS))], np.uint8)
    for index in range(count):
        label = palette[my_data_classes(index)]
        cv2.imwrite(os.path.join(root, 'labels', f'{index}.png'), label)
        cv2.imwrite(os.path.join(root, 'images', f'{index}.png'), label + 50)
    return root
