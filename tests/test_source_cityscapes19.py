"""The 19-class Cityscapes source (source_cityscapes19.py): train ids from test-written
`_gtFine_labelIds.png` files, every other label don't care."""
import os

import cv2
import numpy as np

import source_cityscapes19
from roadseg.data import cityscapes_labels
from roadseg.data.labels import check_one_hot, labels_to_class_map
from scripts import run_script

FILE_SIZE = (256, 128)
# Vertical stripes of label ids, 16 columns each: trained classes and ignored labels.
STRIPES = [7, 26, 0, 9, 18, 33, 1, 24, 23, 3, 17, 31, 4, 5, 29, 21]
TRAIN_ID = {7: 0, 26: 13, 33: 18, 24: 11, 23: 10, 17: 5, 31: 16, 21: 8}   # the others: ignored


def label_ids(shift=0):
    """The stripes as a one-channel label-id image, rolled right by `shift` columns."""
    row = np.repeat(np.array(STRIPES, np.uint8), 16)
    return np.roll(np.tile(row, (FILE_SIZE[1], 1)), shift, axis=1)


def write_label_id_set(root, splits=(('train', 3), ('val', 2)), colour_files=False):
    """Photos and labelIds files (or only colour files) in the official layout."""
    for split, count in splits:
        photos = os.path.join(root, 'leftImg8bit', split, 'ulm')
        labels = os.path.join(root, 'gtFine', split, 'ulm')
        os.makedirs(photos, exist_ok=True)
        os.makedirs(labels, exist_ok=True)
        for index in range(count):
            stem = f'ulm_000000_{index:06d}'
            photo = np.full((FILE_SIZE[1], FILE_SIZE[0], 3), 40 * index, np.uint8)
            cv2.imwrite(os.path.join(photos, f'{stem}_leftImg8bit.png'), photo)
            ids = label_ids(index)
            if colour_files:
                palette = np.zeros((256, 3), np.uint8)
                for label in cityscapes_labels.LABELS:
                    if label.id >= 0:
                        palette[label.id] = label.color[::-1]
                cv2.imwrite(os.path.join(labels, f'{stem}_gtFine_color.png'), palette[ids])
            else:
                cv2.imwrite(os.path.join(labels, f'{stem}_gtFine_labelIds.png'), ids)
    return str(root)


def loaded(root):
    """The cityscapes19 source loaded from `root`."""
    source = source_cityscapes19.get_source()
    source.load_data(root, 0.1)
    return source


def test_the_19_classes_in_train_id_order_with_official_ids_and_colours():
    source = source_cityscapes19.get_source()
    assert source.num_classes == 19 == len(source.class_names) == len(source.label_ids)
    assert source.image_size == (1024, 512) and source.ignores_pixels
    assert source.class_names[0] == 'road' and source.class_names[18] == 'bicycle'
    assert source.label_ids == [label.id for label in cityscapes_labels.EVALUATED]
    assert source.label_colors[13] == (142, 0, 0)            # car: RGB 0, 0, 142
    assert source.label_colors[10] == (180, 130, 70)         # sky


def expected_train_ids(shift, columns):
    """Train id (or -1) of each column of `columns` indices into the file."""
    ids = np.array(STRIPES)[((np.asarray(columns) - shift) % FILE_SIZE[0]) // 16]
    return np.array([TRAIN_ID.get(int(i), -1) for i in ids])


def test_train_ids_at_known_pixels_and_ignored_labels_are_zero_rows(tmp_path):
    source = loaded(write_label_id_set(tmp_path))
    assert (source.num_training, source.num_validation) == (3, 2)
    classes = source.read_label(source.train_files[1][1])       # at the file's size
    np.testing.assert_array_equal(classes[5], expected_train_ids(1, range(FILE_SIZE[0])))
    assert classes[0, 1] == 0 and classes[0, 17] == 13 and classes[0, 33] == -1   # road, car, void
    images, labels = next(iter(source.valid_generator(2)))
    assert labels.shape == (2, 512, 1024, 19)
    check = check_one_hot(labels, allow_zero_rows=True)
    assert not check.bad.any()
    found = labels_to_class_map(labels[0])
    # 1024 columns from 256: every fourth pixel is one file column.
    np.testing.assert_array_equal(found[100, ::4], expected_train_ids(0, range(256)))
    ignored = np.isin(np.array(STRIPES)[np.arange(1024) // 64], list(TRAIN_ID), invert=True)
    assert (labels[0][:, ignored] == 0).all() and check.zero[0][:, ignored].all()
    assert (labels[0][:, ~ignored].sum(axis=-1) == 1).all()


def test_colour_files_give_the_same_classes(tmp_path):
    by_ids = loaded(write_label_id_set(tmp_path / 'ids'))
    by_colour = loaded(write_label_id_set(tmp_path / 'colour', colour_files=True))
    for (_, ids_file), (_, colour_file) in zip(by_ids.train_files, by_colour.train_files):
        from_ids, from_colours = by_ids.read_label(ids_file), by_colour.read_label(colour_file)
        # Polegroup (18) has pole's colour: in colour files it reads as pole.
        polegroup = np.repeat(np.array(STRIPES) == 18, 16)[None, :].repeat(FILE_SIZE[1], 0)
        shift = int(os.path.basename(ids_file).split('_')[2])
        polegroup = np.roll(polegroup, shift, axis=1)
        np.testing.assert_array_equal(from_colours[~polegroup], from_ids[~polegroup])
        assert (from_colours[polegroup] == 5).all() and (from_ids[polegroup] == -1).all()


def test_check_data_source_passes_the_label_id_set(tmp_path):
    root = write_label_id_set(tmp_path / 'data')
    result = run_script('check_data_source.py', 'cityscapes19', root, str(tmp_path / 'out'),
                        '--samples', '1')
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert '[i] Classes: 19' in result.stdout and '[i] All labels are valid' in result.stdout
    assert 'don\'t care (counted apart)' in result.stdout
