"""The base of photo-and-label sources (image_label_source.py): one sample read, resized,
encoded and mirrored; the seeded epochs; what load_data refuses."""
import os

import cv2
import numpy as np
import pytest

from fixtures import MY_DATA_COLORS, MY_DATA_SIZE, my_data_classes, nearest_rows, write_my_data
from roadseg.core.errors import UserError
from roadseg.data import batches
from roadseg.data.image_label_source import ImageLabelSource
from roadseg.data.labels import one_hot
from roadseg.data.resizing import resize_photo

SIZE = (64, 32)  # (width, height) the tests' source works at


class MyPairs(ImageLabelSource):
    """The README example's source at 64x32, counting its find_samples calls."""

    image_size = SIZE
    num_classes = 3
    label_colors = MY_DATA_COLORS

    def __init__(self):
        super().__init__()
        self.searches = 0

    def find_samples(self, data_dir, valid_fraction):
        """Pair images/<n>.png with labels/<n>.png and split them, half for validation."""
        self.searches += 1
        names = sorted(os.listdir(os.path.join(data_dir, 'images')))
        pairs = [(os.path.join(data_dir, 'images', name), os.path.join(data_dir, 'labels', name))
                 for name in names]
        return pairs[::2], pairs[1::2]


def loaded(data_dir, seed=0):
    """A MyPairs source after load_data."""
    source = MyPairs()
    source.seed = seed
    source.load_data(str(data_dir), 0.5)
    return source


def expected_labels(index):
    """The one-hot labels of sample `index` at SIZE, picked from the file's class map with the
    nearest-neighbour formula."""
    rows = nearest_rows(MY_DATA_SIZE[1], SIZE[1])
    columns = nearest_rows(MY_DATA_SIZE[0], SIZE[0])
    return one_hot(my_data_classes(index)[rows[:, None], columns[None, :]], 3)


def test_a_sample_is_resized_encoded_and_mirrored_whole(tmp_path):
    source = loaded(write_my_data(tmp_path, count=4))
    files = (str(tmp_path / 'images' / '3.png'), str(tmp_path / 'labels' / '3.png'))
    image, labels = source.load_sample(files)
    assert image.dtype == labels.dtype == np.float32
    assert image.shape == (32, 64, 3) and labels.shape == (32, 64, 3)
    np.testing.assert_array_equal(image, resize_photo(cv2.imread(files[0]), SIZE))
    np.testing.assert_array_equal(labels, expected_labels(3))
    mirrored_image, mirrored_labels = source.load_sample(files, True)
    np.testing.assert_array_equal(mirrored_image, image[:, ::-1])
    np.testing.assert_array_equal(mirrored_labels, labels[:, ::-1])


def test_unknown_colours_are_all_zero_rows_or_the_unknown_class(tmp_path):
    write_my_data(tmp_path, count=2)
    label = cv2.imread(str(tmp_path / 'labels' / '0.png'))
    label[:20] = (1, 2, 3)                    # background replaced by a colour of no class
    cv2.imwrite(str(tmp_path / 'labels' / '0.png'), label)
    source = loaded(tmp_path)
    files = source.train_files[0]
    assert files[1].endswith('0.png')
    _, labels = source.load_sample(files)
    assert labels[:16].sum() == 0            # rows 0..15 copy rows 0..19 of the file
    np.testing.assert_array_equal(labels[16:], expected_labels(0)[16:])
    source.unknown_class = 0
    np.testing.assert_array_equal(source.load_sample(files)[1], expected_labels(0))


def test_training_epochs_follow_seed_and_epoch_number(tmp_path):
    data_dir = write_my_data(tmp_path, count=20)
    source, resumed = loaded(data_dir), loaded(data_dir)
    epochs = [source.train_generator(4) for _ in range(3)]
    assert source.epoch == 3
    resumed.epoch = 2                         # a run resumed after two epochs
    third = resumed.train_generator(4)
    assert (third.files, third.flipped) == (epochs[2].files, epochs[2].flipped)
    assert epochs[0].files != epochs[1].files
    assert all(sorted(epoch.files) == source.train_files for epoch in epochs)
    source.load_data(str(data_dir), 0.5)     # loading again starts again from epoch 0
    assert (source.epoch, source.train_generator(4).files) == (0, epochs[0].files)
    other = loaded(data_dir, seed=1).train_generator(4)
    assert (other.files, other.flipped) != (epochs[0].files, epochs[0].flipped)
    valid = source.valid_generator(4)
    assert (valid.files, valid.flipped) == (source.valid_files, [False] * 10)


def test_epochs_are_batched_by_workers_within_the_prefetch_budget(tmp_path):
    source = loaded(write_my_data(tmp_path, count=6))
    source.num_workers = 1
    epoch = source.train_generator(2)
    assert (epoch.num_workers, epoch.batch_size, len(epoch)) == (1, 2, 2)
    assert epoch.prefetch == batches.prefetch_depth(2, SIZE, 3, 1) == 2
    images, labels = next(iter(epoch))
    assert images.shape == (2, 32, 64, 3) and labels.shape == (2, 32, 64, 3)


def test_load_data_checks_its_arguments_before_looking_for_files(tmp_path):
    source = MyPairs()
    with pytest.raises(UserError, match='validation fraction'):
        source.load_data(str(tmp_path), 1.0)
    source.seed = -1
    with pytest.raises(UserError, match='seed must be a non-negative integer'):
        source.load_data(str(tmp_path), 0.5)
    assert source.searches == 0
    (tmp_path / 'images').mkdir()
    source.seed = 0
    with pytest.raises(UserError, match=f'no usable samples in {tmp_path}$'):
        source.load_data(str(tmp_path), 0.5)
    assert (source.searches, source.num_training) == (1, 0)


def test_labels_without_any_colour_of_the_source_stop_loading(tmp_path):
    write_my_data(tmp_path, count=10)
    for index in range(10):
        cv2.imwrite(str(tmp_path / 'labels' / f'{index}.png'), np.full((40, 80, 3), 7, np.uint8))
    with pytest.raises(UserError) as error:
        loaded(tmp_path)
    assert str(error.value).startswith(
        f'none of the 10 label files in {tmp_path / "labels"} holds a colour of this source '
        '(B, G, R: (0, 0, 0), (128, 64, 128), (142, 0, 0))')
    # One known colour in the last file, beyond the first files read, is enough.
    cv2.imwrite(str(tmp_path / 'labels' / '9.png'), np.zeros((40, 80, 3), np.uint8))
    assert loaded(tmp_path).num_training == 5
    # A source whose unknown colours are a class never needs the check.
    cv2.imwrite(str(tmp_path / 'labels' / '9.png'), np.full((40, 80, 3), 7, np.uint8))
    source = MyPairs()
    source.unknown_class = 0
    source.load_data(str(tmp_path), 0.5)
    assert source.num_training == 5
