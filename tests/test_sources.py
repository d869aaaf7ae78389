"""KITTI Road and Cityscapes sources on tiny data sets written in the official layouts."""
import os

import cv2
import numpy as np
import pytest

import metrics
import source_cityscapes
import source_kitti
import utils
from images import quiet_opencv
from labels import labels_to_class_map

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


def kitti_source(root, valid_fraction=0.4, seed=0, size=None):
    """A loaded KITTI source, optionally at a smaller image size to keep tests fast."""
    source = source_kitti.get_source()
    source.seed = seed
    if size:
        source.image_size = size
    source.load_data(str(root), valid_fraction)
    return source


# --- KITTI ------------------------------------------------------------------------------------

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
    with pytest.raises(utils.UserError, match=r'cannot decode .*um_000001\.png'):
        for _ in source.valid_generator(1):
            pass


def test_kitti_missing_or_empty_directory(tmp_path):
    with pytest.raises(utils.UserError, match='does not exist.*data_road.zip'):
        kitti_source(tmp_path / 'nowhere')
    with pytest.raises(utils.UserError, match='no KITTI Road training set'):
        kitti_source(tmp_path)
    (tmp_path / 'training' / 'image_2').mkdir(parents=True)
    with pytest.raises(utils.UserError, match='no PNG photos in'):
        kitti_source(tmp_path)
    cv2.imwrite(str(tmp_path / 'training' / 'image_2' / 'um_000000.png'),
                np.zeros((4, 4, 3), np.uint8))
    with pytest.raises(utils.UserError, match='none of the 1 photos'):
        kitti_source(tmp_path)


# --- Cityscapes -------------------------------------------------------------------------------

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
    assert set(metrics.CITYSCAPES_EVALUATED_IDS) <= set(source.label_ids)


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
        expected = utils.one_hot(expected_cityscapes_classes(shift, (128, 64)), 29)
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
    with pytest.raises(utils.UserError, match='does not exist'):
        cityscapes_source(tmp_path / 'missing')
    with pytest.raises(utils.UserError, match='no leftImg8bit folder'):
        cityscapes_source(tmp_path)
    (tmp_path / 'leftImg8bit' / 'train').mkdir(parents=True)
    (tmp_path / 'gtFine').mkdir()
    with pytest.raises(utils.UserError, match='no \\*_leftImg8bit.png photos'):
        cityscapes_source(tmp_path)
