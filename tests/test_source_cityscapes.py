"""The Cityscapes source (source_cityscapes.py) on tiny data sets in the official layout."""
import os

import cv2
import numpy as np
import pytest

import source_cityscapes
from fixtures import LABEL_SIZE, nearest_rows, sample_index
from roadseg.core.errors import UserError
from roadseg.data import cityscapes_labels
from roadseg.data.labels import labels_to_class_map, one_hot


def cityscapes_color(name):
    """BGR of a Cityscapes class by name, from the source's own table."""
    source = source_cityscapes.get_source()
    return source.label_colors[source.class_names.index(name)]


STRIPES = ['road', 'car', 'sky', 'person', 'unknown']  # 20 columns each in the files
UNKNOWN_COLOR = (1, 2, 3)


def cityscapes_label(shift):
    """Five vertical stripes of 20 columns, rolled right by `shift` columns."""
    label = np.zeros((LABEL_SIZE[1], LABEL_SIZE[0], 3), dtype=np.uint8)
    for k, name in enumerate(STRIPES):
        label[:, 20 * k:20 * (k + 1)] = UNKNOWN_COLOR if name == 'unknown' else \
            cityscapes_color(name)
    return np.roll(label, shift, axis=1)


def expected_cityscapes_classes(shift, size):
    """Class index per pixel at `size`, from the stripe layout (unknown -> unlabeled, 0)."""
    source = source_cityscapes.get_source()
    columns = (nearest_rows(LABEL_SIZE[0], size[0]) - shift) % LABEL_SIZE[0]
    names = [STRIPES[c // 20] for c in columns]
    row = [0 if n == 'unknown' else source.class_names.index(n) for n in names]
    return np.tile(row, (size[1], 1))


def write_cityscapes(root, cities, archive_layout=False):
    """{split: {city: count}} in the official layout; photo i of a split has blue 10 * i,
    its label the stripes rolled by i columns; the second label of each split is RGBA."""
    images_root = os.path.join(root, 'leftImg8bit_trainvaltest', 'leftImg8bit') \
        if archive_layout else os.path.join(root, 'leftImg8bit')
    labels_root = os.path.join(root, 'gtFine_trainvaltest', 'gtFine') \
        if archive_layout else os.path.join(root, 'gtFine')
    for split, counts in cities.items():
        index = 0
        for city, count in counts.items():
            os.makedirs(os.path.join(images_root, split, city), exist_ok=True)
            os.makedirs(os.path.join(labels_root, split, city), exist_ok=True)
            for frame in range(count):
                stem = f'{city}_000000_{frame:06d}'
                photo = np.full((LABEL_SIZE[1], LABEL_SIZE[0], 3), (10 * index, 50, 60),
                                np.uint8)
                cv2.imwrite(os.path.join(images_root, split, city, f'{stem}_leftImg8bit.png'),
                            photo)
                label = cityscapes_label(index)
                if index == 1:  # the official colour PNGs are RGBA
                    label = np.dstack([label, np.full(label.shape[:2], 255, np.uint8)])
                cv2.imwrite(os.path.join(labels_root, split, city, f'{stem}_gtFine_color.png'),
                            label)
                index += 1
    return root


def cityscapes_source(root, size=(128, 64), valid_fraction=0.1, seed=0):
    """A loaded Cityscapes source at a small image size."""
    source = source_cityscapes.get_source()
    source.seed = seed
    source.image_size = size
    source.load_data(str(root), valid_fraction)
    return source


def test_cityscapes_class_table_is_the_official_one():
    source = source_cityscapes.get_source()
    assert source.image_size == (512, 256)
    assert source.num_classes == 29 == len(source.class_names) == len(source.label_ids)
    assert source.class_names[:4] == ['unlabeled', 'dynamic', 'ground', 'road']
    assert source.class_names[-1] == 'bicycle'
    colors = dict(zip(source.class_names, (source.label_colors[i] for i in range(29))))
    assert colors['road'] == (128, 64, 128)      # BGR of the official RGB 128, 64, 128
    assert colors['sky'] == (180, 130, 70)       # RGB 70, 130, 180
    assert colors['person'] == (60, 20, 220)     # RGB 220, 20, 60
    assert colors['car'] == (142, 0, 0)          # RGB 0, 0, 142
    assert colors['unlabeled'] == (0, 0, 0)
    assert len(set(colors.values())) == 29
    ids = dict(zip(source.class_names, source.label_ids))
    assert (ids['unlabeled'], ids['road'], ids['traffic light'], ids['bicycle']) == (0, 7, 19, 33)
    assert {label.id for label in cityscapes_labels.EVALUATED} <= set(source.label_ids)


def test_cityscapes_official_split_exact_values_and_rgba(tmp_path):
    root = write_cityscapes(tmp_path, {'train': {'aachen': 2, 'bochum': 1}, 'val': {'lindau': 2}})
    source = cityscapes_source(root, valid_fraction=0.5)
    assert (source.num_training, source.num_validation) == (3, 2)
    assert [os.path.basename(p).split('_')[0] for p, _ in source.valid_files] == ['lindau'] * 2
    assert all(label.endswith('_gtFine_color.png') and '/gtFine/train/' in label
               for _, label in source.train_files)
    images, labels = next(iter(source.valid_generator(2)))
    assert images.shape == (2, 64, 128, 3) and labels.shape == (2, 64, 128, 29)
    assert images.dtype == labels.dtype == np.float32
    for image, label in zip(images, labels):
        shift = sample_index(image)
        expected = one_hot(expected_cityscapes_classes(shift, (128, 64)), 29)
        np.testing.assert_array_equal(label, expected)  # sample 1 was RGBA
    # Unknown colours count as 'unlabeled': every row stays one-hot.
    assert labels.sum(axis=-1).min() == 1
    assert labels[0, :, 120, 0].tolist() == [1] * 64  # column 94 of the file: unknown


def test_cityscapes_default_size_has_no_invented_classes(tmp_path):
    root = write_cityscapes(tmp_path, {'train': {'ulm': 1}, 'val': {'lindau': 1}})
    source = cityscapes_source(root, size=(512, 256))
    images, labels = next(iter(source.valid_generator(1)))
    assert labels.shape == (1, 256, 512, 29)
    classes = labels_to_class_map(labels[0])
    np.testing.assert_array_equal(classes, expected_cityscapes_classes(0, (512, 256)))
    names = {source.class_names[c] for c in np.unique(classes)}
    assert names == {'road', 'car', 'sky', 'person', 'unlabeled'}


def test_cityscapes_without_val_splits_train_by_seed(tmp_path, capsys):
    root = write_cityscapes(tmp_path, {'train': {'aachen': 6, 'bremen': 4}})
    first = cityscapes_source(root, valid_fraction=0.2, seed=3)
    second = cityscapes_source(root, valid_fraction=0.2, seed=3)
    assert (first.num_training, first.num_validation) == (8, 2)
    assert first.valid_files == second.valid_files
    assert 'no val/ photos' in capsys.readouterr().out


def test_cityscapes_archive_layout_and_missing_labels(tmp_path, capsys):
    root = write_cityscapes(tmp_path, {'train': {'jena': 3}, 'val': {'munster': 1}},
                            archive_layout=True)
    os.remove(os.path.join(root, 'gtFine_trainvaltest', 'gtFine', 'train', 'jena',
                           'jena_000000_000002_gtFine_color.png'))
    source = cityscapes_source(root)
    assert (source.num_training, source.num_validation) == (2, 1)
    assert ('skipping 1 Cityscapes train images without a label: '
            'jena_000000_000002_leftImg8bit.png') in capsys.readouterr().err


def test_cityscapes_missing_or_empty_directory(tmp_path):
    with pytest.raises(UserError, match='does not exist'):
        cityscapes_source(tmp_path / 'missing')
    with pytest.raises(UserError, match='no leftImg8bit folder'):
        cityscapes_source(tmp_path)
    (tmp_path / 'leftImg8bit' / 'train').mkdir(parents=True)
    (tmp_path / 'gtFine').mkdir()
    with pytest.raises(UserError, match='no \\*_leftImg8bit.png photos'):
        cityscapes_source(tmp_path)
