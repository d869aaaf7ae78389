"""The shared data-source helpers in utils.py: loading a source by name, colour lookup,
one-hot encoding and checking, drawing, the split and the threaded batch loader."""
import itertools
import sys
import textwrap
import threading
import time

import cv2
import numpy as np
import pytest

import utils
from drawing import blend_labels
from labels import check_one_hot, first_coordinates, labels_to_class_map
from sources import available_sources, check_loaded_source, load_data_source

GOOD_SOURCE = '''
class Source:
    image_size = {size}
    num_classes = 2
    label_colors = {{0: (0, 0, 0), 1: (255, 255, 255)}}
    def load_data(self, data_dir, valid_fraction):
        pass
    def train_generator(self, batch_size):
        return iter([])
    def valid_generator(self, batch_size):
        return iter([])

def get_source():
    return Source()
'''


@pytest.fixture
def module_dir(tmp_path, monkeypatch):
    """A folder on the Python path for source modules the tests write."""
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


def write_module(folder, name, text):
    """Write a module and forget any earlier import of the same name."""
    (folder / f'{name}.py').write_text(textwrap.dedent(text))
    sys.modules.pop(name, None)


# --- load_data_source ------------------------------------------------------------------------

def test_built_in_sources_load_and_are_listed():
    assert {'kitti', 'cityscapes', 'synthetic'} <= set(available_sources())
    for name in ('kitti', 'cityscapes', 'synthetic'):
        source = load_data_source(name)
        assert source.image_size[0] % 32 == 0 and source.image_size[1] % 32 == 0
        assert len(source.label_colors) == source.num_classes == len(source.class_names)


@pytest.mark.parametrize('name', ['Kitti', '../kitti', 'kit-ti', '', 'a b'])
def test_bad_names_are_refused_with_the_list(name):
    with pytest.raises(utils.UserError, match=r'invalid data source name.*available: .*kitti'):
        load_data_source(name)


def test_unknown_source_lists_the_available_ones(module_dir):
    write_module(module_dir, 'source_mine', GOOD_SOURCE.format(size=(64, 32)))
    with pytest.raises(utils.UserError) as error:
        load_data_source('nosuchthing')
    message = str(error.value)
    assert "unknown data source 'nosuchthing'" in message
    assert 'cityscapes, kitti, mine, synthetic' in message


def test_good_test_source_loads(module_dir):
    write_module(module_dir, 'source_fine', GOOD_SOURCE.format(size=(64, 32)))
    assert load_data_source('fine').image_size == (64, 32)


@pytest.mark.parametrize('text, pattern', [
    ('x = 1\n', r'has no get_source\(\) function'),
    ('def get_source():\n    return object()\n',
     r'lacks image_size, num_classes, label_colors, load_data'),
    (GOOD_SOURCE.format(size=(100, 64)),
     r'image_size \(100, 64\): it must be \(width, height\) with both multiples of 32, '
     r'for example \(96, 64\)'),
    (GOOD_SOURCE.format(size=(64,)), r'image_size \(64,\)'),
    (GOOD_SOURCE.format(size=(64, 32)).replace('num_classes = 2', 'num_classes = 0'),
     'num_classes 0'),
    (GOOD_SOURCE.format(size=(64, 32)).replace('1: (255, 255, 255)', '2: (255, 255, 255)'),
     'label_colors entry 2'),
    (GOOD_SOURCE.format(size=(64, 32)).replace('1: (255, 255, 255)', '1: (256, 0, 0)'),
     'label_colors entry 1'),
    ('import nonexistent_helper_package\n', "needs the Python module 'nonexistent_helper_"),
])
def test_broken_source_modules_are_named(module_dir, text, pattern):
    write_module(module_dir, 'source_broken', text)
    with pytest.raises(utils.UserError, match=pattern):
        load_data_source('broken')


def test_loaded_source_is_checked():
    class Loaded:
        image_size, num_training, num_validation = (64, 32), 0, 0
        train_generator = valid_generator = None
    with pytest.raises(utils.UserError, match='found no training samples'):
        check_loaded_source(Loaded(), 'x')
    del Loaded.valid_generator
    with pytest.raises(utils.UserError, match='lacks valid_generator after load_data'):
        check_loaded_source(Loaded(), 'x')


# --- colours, classes, one-hot rows ------------------------------------------------------------

def per_class_lookup(label, colors, unknown):
    """The straightforward way, as reference: one mask per class."""
    result = np.full(label.shape[:2], unknown, dtype=np.int32)
    for index, color in reversed(list(colors.items())):
        result[np.all(label == np.array(color, dtype=np.uint8), axis=-1)] = index
    return result


def test_colour_lookup_equals_the_per_class_loop():
    rng = np.random.default_rng(1)
    colors = {i: tuple(int(c) for c in rng.integers(0, 256, 3)) for i in range(29)}
    palette = np.array(list(colors.values()) + [(1, 2, 3), (255, 255, 254)], dtype=np.uint8)
    label = palette[rng.integers(0, len(palette), (37, 53))]
    for unknown in (-1, 0):
        classes = utils.colors_to_class_map(label, colors, unknown)
        assert classes.dtype == np.int32 and classes.shape == (37, 53)
        np.testing.assert_array_equal(classes, per_class_lookup(label, colors, unknown))
    assert (utils.colors_to_class_map(label, {}) == -1).all()


def test_colour_lookup_first_class_wins_a_shared_colour():
    label = np.array([[[5, 6, 7], [0, 0, 0]]], dtype=np.uint8)
    classes = utils.colors_to_class_map(label, {3: (5, 6, 7), 1: (5, 6, 7), 0: (0, 0, 0)})
    assert classes.tolist() == [[3, 0]]


def test_one_hot_and_back():
    classes = np.array([[0, 2, -1], [1, 1, 2]])
    labels = utils.one_hot(classes, 3)
    assert labels.dtype == np.float32 and labels.shape == (2, 3, 3)
    assert labels[0, 1].tolist() == [0, 0, 1] and labels[0, 2].tolist() == [0, 0, 0]
    np.testing.assert_array_equal(labels_to_class_map(labels), classes)
    assert labels_to_class_map(labels[None]).shape == (1, 2, 3)
    assert utils.one_hot(np.array([3, 7, -5]), 3).tolist() == [[0, 0, 0]] * 3


def test_check_one_hot_finds_every_kind_of_bad_row():
    rows = np.array([
        [0, 1, 0],          # valid
        [0, 0, 0],          # all zero
        [1, 1, 0],          # two-hot
        [0.5, 0.5, 0],      # sums to one, not one-hot
        [2, -1, 0],         # sums to one, not one-hot
        [1, 1e-30, 0],      # sums to one in float32, not one-hot
        [np.nan, 1, 0],     # NaN
        [-1, 0, 0],         # negative
        [0, 0, 1],          # valid
    ], dtype=np.float32).reshape(1, 9, 3)
    strict = check_one_hot(rows)
    assert strict.bad.tolist() == [[False, True, True, True, True, True, True, True, False]]
    assert strict.zero.tolist() == [[False, True] + [False] * 7]
    relaxed = check_one_hot(rows, allow_zero_rows=True)
    assert relaxed.bad.tolist() == [[False, False, True, True, True, True, True, True, False]]
    assert relaxed.zero.tolist() == strict.zero.tolist()


def test_first_coordinates_are_x_y_row_by_row():
    mask = np.zeros((4, 6), dtype=bool)
    mask[1, 4] = mask[1, 2] = mask[3, 0] = mask[2, 5] = True
    assert first_coordinates(mask, 3) == [(2, 1), (4, 1), (5, 2)]


def test_blend_labels_and_colour_masks():
    image = np.full((2, 3, 3), 100, dtype=np.uint8)
    classes = np.array([[0, 1, -1], [2, 7, 0]])
    colors = {0: (0, 0, 200), 1: (255, 255, 255)}  # class 2 has no colour
    blended = blend_labels(image, classes, colors)
    assert blended.dtype == np.uint8 and blended.shape == (2, 3, 3)
    assert blended[0, 0].tolist() == [50, 50, 150]
    assert blended[0, 1].tolist() == [178, 178, 178]  # 177.5 rounds to even
    assert blended[0, 2].tolist() == [100, 100, 100]  # don't care: unchanged
    assert blended[1, 0].tolist() == [100, 100, 100]  # no colour: unchanged
    assert blended[1, 1].tolist() == [100, 100, 100]  # out of range: unchanged
    assert blended[1, 2].tolist() == [50, 50, 150]
    quarter = blend_labels(image.astype(np.float32), classes, colors, alpha=0.25)
    assert quarter[0, 0].tolist() == [75, 75, 125]
    painted = utils.class_map_to_colors(classes, colors, background=(9, 9, 9))
    assert painted[0].tolist() == [[0, 0, 200], [255, 255, 255], [9, 9, 9]]


def test_nearest_resizing_invents_no_colours_where_bilinear_does():
    label = np.zeros((10, 10, 3), dtype=np.uint8)
    label[:, 5:] = (255, 0, 255)
    label[:, :5] = (0, 0, 255)
    for size in ((17, 23), (4, 4), (576, 160)):
        resized = utils.resize_label(label, size)
        assert resized.shape == (size[1], size[0], 3)
        assert {tuple(c) for c in resized.reshape(-1, 3)} == {(255, 0, 255), (0, 0, 255)}
    bilinear = cv2.resize(label, (17, 23), interpolation=cv2.INTER_LINEAR)
    assert len({tuple(c) for c in bilinear.reshape(-1, 3)}) > 2


def test_read_image_drops_alpha_and_names_bad_files(tmp_path):
    rgba = np.zeros((3, 4, 4), dtype=np.uint8)
    rgba[..., :3] = (10, 20, 30)
    rgba[..., 3] = 0  # fully transparent: the colour must survive
    cv2.imwrite(str(tmp_path / 'label.png'), rgba)
    assert utils.read_image(str(tmp_path / 'label.png'))[0, 0].tolist() == [10, 20, 30]
    (tmp_path / 'empty.png').write_bytes(b'')
    for name in ('empty.png', 'missing.png'):
        with pytest.raises(utils.UserError, match=name):
            utils.read_image(str(tmp_path / name))
    assert not utils.looks_like_image(str(tmp_path / 'empty.png'))
    assert utils.looks_like_image(str(tmp_path / 'label.png'))


def test_write_image_is_atomic_and_leaves_no_temporary(tmp_path):
    path = tmp_path / 'out.png'
    utils.write_image(str(path), np.full((2, 2, 3), 7, np.uint8))
    assert [p.name for p in tmp_path.iterdir()] == ['out.png']
    assert utils.read_image(str(path)).tolist() == [[[7] * 3] * 2] * 2
    with pytest.raises(utils.UserError, match='cannot write'):
        utils.write_image(str(tmp_path / 'no' / 'dir.png'), np.zeros((2, 2, 3), np.uint8))


# --- the split ---------------------------------------------------------------------------------

@pytest.mark.parametrize('count, fraction, expected', [
    (10, 0.1, 1), (10, 0.0, 0), (1, 0.5, 0), (2, 0.01, 1), (3, 0.9, 2), (289, 0.1, 29)])
def test_split_counts(count, fraction, expected):
    samples = [(f'{i}.png', f'{i}_label.png') for i in range(count)]
    train, valid = utils.split_samples(samples[::-1], fraction, seed=4)
    assert len(valid) == expected and len(train) == count - expected
    assert sorted(train + valid) == sorted(samples)
    assert (train, valid) == utils.split_samples(samples, fraction, seed=4)


def test_split_rejects_bad_fractions_and_seeds():
    for fraction in (1.0, -0.1, '0.1', True):
        with pytest.raises(utils.UserError, match='validation fraction'):
            utils.split_samples([1, 2], fraction)
    with pytest.raises(utils.UserError, match='seed must be a non-negative integer'):
        utils.split_samples([1, 2], 0.5, seed=-1)


# --- the batch loader --------------------------------------------------------------------------

class CountingLoader:
    """load_sample stand-in: a 2x2 image and label holding the sample's number."""

    def __init__(self, fail_at=None):
        self.calls = 0
        self.lock = threading.Lock()
        self.threads = set()
        self.fail_at = fail_at

    def __call__(self, files, flip):
        with self.lock:
            self.calls += 1
            self.threads.add(threading.get_ident())
        if files == self.fail_at:
            raise utils.UserError(f'cannot decode {files}')
        value = -files if flip else files
        return (np.full((2, 2, 3), value, np.float32), np.full((2, 2, 1), value, np.float32))


def test_batches_keep_order_flips_and_last_partial_batch():
    loader = CountingLoader()
    flipped = [i % 3 == 0 for i in range(10)]
    batches = utils.EpochBatches(list(range(10)), flipped, 4, loader, num_workers=2)
    assert len(batches) == 3
    got = [(images[:, 0, 0, 0].tolist(), labels.shape) for images, labels in batches]
    assert got == [([0, 1, 2, -3], (4, 2, 2, 1)), ([4, 5, -6, 7], (4, 2, 2, 1)),
                   ([8, -9], (2, 2, 2, 1))]
    assert loader.calls == 10
    assert threading.get_ident() not in loader.threads  # loaded by the workers
    assert [b[0].shape[0] for b in batches] == [4, 4, 2]  # iterating again replays the epoch


def test_batches_prefetch_is_bounded():
    loader = CountingLoader()
    batches = utils.EpochBatches(list(range(200)), [False] * 200, 2, loader, num_workers=2,
                                 prefetch=3)
    iterator = iter(batches)
    next(iterator)
    time.sleep(0.3)  # plenty for an unbounded loader to read all 200
    assert loader.calls <= (1 + 3) * 2
    iterator.close()
    settled = loader.calls
    time.sleep(0.1)
    assert loader.calls == settled  # stopping early stops the workers


def test_batches_raise_worker_errors_in_the_consumer():
    loader = CountingLoader(fail_at=5)
    batches = utils.EpochBatches(list(range(8)), [False] * 8, 2, loader, num_workers=2)
    with pytest.raises(utils.UserError, match='cannot decode 5'):
        list(batches)
    with pytest.raises(utils.UserError, match='batch size must be a positive integer'):
        utils.EpochBatches([1], [False], 0, loader)


def test_batches_of_nothing_is_an_empty_epoch():
    assert list(utils.EpochBatches([], [], 3, CountingLoader())) == []
    assert list(itertools.islice(utils.EpochBatches([1], [True], 3, CountingLoader()), 5))[0][
        0].tolist() == [[[[-1.0] * 3] * 2] * 2]
