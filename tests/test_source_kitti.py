"""The KITTI Road source (source_kitti.py) on tiny data sets in the official layout."""
import os

import cv2
import numpy as np
import pytest

import source_kitti
from fixtures import LABEL_SIZE, kitti_label, nearest_rows, road_start, sample_index, write_kitti
from roadseg.core.errors import UserError
from roadseg.data.images import quiet_opencv


def expected_kitti_labels(index, size):
    """The one-hot labels sample `index` must give at `size`, derived from the file's layout."""
    width, height = size
    columns = nearest_rows(LABEL_SIZE[0], width)
    rows = nearest_rows(LABEL_SIZE[1], height)
    expected = np.zeros((height, width, 2), dtype=np.float32)
    road = columns >= road_start(index)
    expected[:, ~road, 0] = 1
    expected[:, road, 1] = 1
    expected[rows >= 40] = 0
    return expected


def kitti_source(root, valid_fraction=0.4, seed=0, size=None):
    """A loaded KITTI source, optionally at a smaller image size to keep tests fast."""
    source = source_kitti.get_source()
    source.seed = seed
    if size:
        source.image_size = size
    source.load_data(str(root), valid_fraction)
    return source


def test_kitti_contract_values_and_dont_care(tmp_path):
    source = kitti_source(write_kitti(tmp_path))
    assert source.image_size == (576, 160)
    assert (source.num_classes, source.ignores_pixels) == (2, True)
    assert source.class_names == ['background', 'road']
    assert (source.num_training, source.num_validation) == (3, 2)
    batches = list(source.valid_generator(2))
    assert [len(images) for images, _ in batches] == [2]
    images, labels = batches[0]
    assert images.shape == (2, 160, 576, 3) and images.dtype == np.float32
    assert labels.shape == (2, 160, 576, 2) and labels.dtype == np.float32
    for image, label, (image_path, _) in zip(images, labels, source.valid_files):
        index = sample_index(image)
        assert os.path.basename(image_path) == f'um_{index:06d}.png'
        np.testing.assert_array_equal(image[80, 300], (10 * index, 100, 200))
        # The whole label, exactly: one-hot where coloured, all-zero on the black rows, and
        # the red/magenta boundary moved without any invented class in between.
        np.testing.assert_array_equal(label, expected_kitti_labels(index, (576, 160)))
        assert label[10, 5].tolist() == [1, 0] and label[10, 570].tolist() == [0, 1]
        assert label[159, 300].tolist() == [0, 0]


def test_kitti_training_epochs_are_shuffled_and_flipped_by_seed(tmp_path):
    root = write_kitti(tmp_path, count=8)
    source = kitti_source(root, valid_fraction=0.25, size=(64, 32))
    again = kitti_source(root, valid_fraction=0.25, size=(64, 32))
    seen_orders, flips = set(), []
    for _ in range(4):
        epoch, replay = source.train_generator(3), again.train_generator(3)
        assert (epoch.files, epoch.flipped) == (replay.files, replay.flipped)
        assert sorted(epoch.files) == sorted(source.train_files)
        seen_orders.add(tuple(epoch.files))
        flips.extend(epoch.flipped)
        samples = [(image, label) for images, labels in epoch for image, label in
                   zip(images, labels)]
        assert len(samples) == 6
        for (image, label), files, flipped in zip(samples, epoch.files, epoch.flipped):
            index = sample_index(image)
            assert os.path.basename(files[0]) == f'um_{index:06d}.png'
            expected = expected_kitti_labels(index, (64, 32))
            np.testing.assert_array_equal(label, expected[:, ::-1] if flipped else expected)
    assert len(seen_orders) > 1
    assert any(flips) and not all(flips)
    other = kitti_source(root, valid_fraction=0.25, seed=7, size=(64, 32))
    assert [other.train_generator(3).files for _ in range(4)] != [list(o) for o in seen_orders]


def test_kitti_validation_is_never_flipped(tmp_path):
    source = kitti_source(write_kitti(tmp_path, count=6), valid_fraction=0.5, size=(64, 32))
    for _ in range(2):
        epoch = source.valid_generator(2)
        assert epoch.flipped == [False] * 3
        for images, labels in epoch:
            for image, label in zip(images, labels):
                np.testing.assert_array_equal(
                    label, expected_kitti_labels(sample_index(image), (64, 32)))


def test_kitti_split_depends_only_on_seed(tmp_path):
    root = write_kitti(tmp_path, count=20)
    first = kitti_source(root, valid_fraction=0.25, seed=0, size=(64, 32))
    second = kitti_source(root, valid_fraction=0.25, seed=0, size=(64, 32))
    third = kitti_source(root, valid_fraction=0.25, seed=1, size=(64, 32))
    assert (first.num_training, first.num_validation) == (15, 5)
    assert first.valid_files == second.valid_files
    assert first.valid_files != third.valid_files
    assert not set(first.valid_files) & set(first.train_files)
    assert len(set(first.valid_files) | set(first.train_files)) == 20


@pytest.mark.parametrize('layout', ['above_training', 'data_road_parent', 'training_itself'])
def test_kitti_accepts_the_usual_data_dirs(tmp_path, layout):
    if layout == 'data_road_parent':
        write_kitti(tmp_path / 'data_road', count=3)
        data_dir = tmp_path
    else:
        write_kitti(tmp_path, count=3)
        data_dir = tmp_path / 'training' if layout == 'training_itself' else tmp_path
    source = kitti_source(data_dir, valid_fraction=0.34, size=(64, 32))
    assert source.num_training + source.num_validation == 3


def test_kitti_images_without_label_are_skipped_and_reported(tmp_path, capsys):
    root = write_kitti(tmp_path, count=4)
    images = tmp_path / 'training' / 'image_2'
    for name in ('uu_000007.png', 'umm_000003.png', 'notes_final.png'):
        cv2.imwrite(str(images / name), np.zeros((8, 8, 3), np.uint8))
    source = kitti_source(root, valid_fraction=0.25, size=(64, 32))
    assert source.num_training + source.num_validation == 4
    err = capsys.readouterr().err
    assert ('[!] skipping 3 KITTI Road images without a label: notes_final.png, '
            'umm_000003.png, uu_000007.png') in err


def test_kitti_unknown_label_colours_are_dont_care(tmp_path):
    root = write_kitti(tmp_path, count=2)
    label = kitti_label(0)
    label[0:10, 0:30] = (10, 200, 30)  # a colour the benchmark does not use
    cv2.imwrite(str(tmp_path / 'training' / 'gt_image_2' / 'um_road_000000.png'), label)
    source = kitti_source(root, valid_fraction=0.5, size=(100, 50))
    source.valid_files = source.train_files = sorted(source.train_files + source.valid_files)
    images, labels = next(iter(source.valid_generator(2)))
    assert sample_index(images[0]) == 0
    assert labels[0, 0:10, 0:30].sum() == 0
    assert labels[0, 10:40, 0:20, 0].min() == 1


def test_kitti_unreadable_files_are_skipped_when_loading(tmp_path, capsys):
    root = write_kitti(tmp_path, count=4)
    (tmp_path / 'training' / 'image_2' / 'um_000001.png').write_bytes(b'not a png at all')
    (tmp_path / 'training' / 'gt_image_2' / 'um_road_000002.png').write_bytes(b'')
    source = kitti_source(root, valid_fraction=0.5, size=(64, 32))
    assert source.num_training + source.num_validation == 2
    err = capsys.readouterr().err
    assert 'skipping 2 KITTI Road files that are empty or not images' in err
    assert 'um_000001.png' in err and 'um_road_000002.png' in err


def test_kitti_truncated_image_stops_with_the_file_name(tmp_path):
    root = write_kitti(tmp_path, count=2)
    path = tmp_path / 'training' / 'image_2' / 'um_000001.png'
    path.write_bytes(path.read_bytes()[:60])  # header intact, pixel data cut off
    quiet_opencv()
    source = kitti_source(root, valid_fraction=0.5, size=(64, 32))
    everything = sorted(source.train_files + source.valid_files)
    source.valid_files = everything
    with pytest.raises(UserError, match=r'cannot decode .*um_000001\.png'):
        for _ in source.valid_generator(1):
            pass


def test_kitti_missing_or_empty_directory(tmp_path):
    with pytest.raises(UserError, match='does not exist.*data_road.zip'):
        kitti_source(tmp_path / 'nowhere')
    with pytest.raises(UserError, match='no KITTI Road training set'):
        kitti_source(tmp_path)
    (tmp_path / 'training' / 'image_2').mkdir(parents=True)
    with pytest.raises(UserError, match='no PNG photos in'):
        kitti_source(tmp_path)
    cv2.imwrite(str(tmp_path / 'training' / 'image_2' / 'um_000000.png'),
                np.zeros((4, 4, 3), np.uint8))
    with pytest.raises(UserError, match='none of the 1 photos'):
        kitti_source(tmp_path)
