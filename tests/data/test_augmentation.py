"""Training augmentation (augmentation.py through ImageLabelSource): scale, crop, pad, flip and
colour jitter keep photo and label aligned and the labels one-hot or don't care; the same
seed and epoch give the same batches."""
import os

import cv2
import numpy as np
import pytest

from roadseg.core.errors import UserError
from roadseg.data.augmentation import (Augmentation, SampleTransform, jitter_colors, take_window,
                                       window_origin)
from roadseg.data.image_label_source import ImageLabelSource
from roadseg.data.images import VGG_MEAN_BGR
from roadseg.data.labels import check_one_hot, labels_to_class_map

FILE_SIZE = (400, 200)          # the full-resolution files
IMAGE_SIZE = (128, 64)          # the source's training and validation size
SHAPE = (slice(60, 140), slice(150, 300))   # rows, columns of the known shape in the files
COLORS = {0: (0, 0, 255), 1: (255, 0, 255), 2: (0, 255, 0)}   # class 2 never occurs


class ShapePairs(ImageLabelSource):
    """Photos of a grey field with a blue rectangle whose label marks it as class 1."""

    image_size = IMAGE_SIZE
    num_classes = 3
    label_colors = COLORS
    ignores_pixels = True

    def find_samples(self, data_dir, valid_fraction):
        """Every pair in data_dir, all for training."""
        names = sorted(os.listdir(os.path.join(data_dir, 'images')))
        return [(os.path.join(data_dir, 'images', n), os.path.join(data_dir, 'labels', n))
                for n in names], []


def write_shapes(data_dir, count=6):
    """Write `count` photo and label files of FILE_SIZE with the shape; return data_dir."""
    for part in ('images', 'labels'):
        os.makedirs(os.path.join(data_dir, part), exist_ok=True)
    width, height = FILE_SIZE
    for index in range(count):
        photo = np.full((height, width, 3), 100, np.uint8)
        photo[SHAPE] = (250, 20, 20)
        label = np.zeros((height, width, 3), np.uint8)
        label[:] = COLORS[0]
        label[SHAPE] = COLORS[1]
        cv2.imwrite(os.path.join(data_dir, 'images', f'{index}.png'), photo)
        cv2.imwrite(os.path.join(data_dir, 'labels', f'{index}.png'), label)
    return str(data_dir)


def shape_source(data_dir, augmentation, seed=0, workers=None):
    """A loaded ShapePairs source with `augmentation`."""
    source = ShapePairs()
    source.seed, source.augmentation, source.num_workers = seed, augmentation, workers
    source.load_data(data_dir, 0.0)
    return source


def bounding_box(mask):
    """(left, top, right, bottom) of a boolean mask's True pixels."""
    ys, xs = np.nonzero(mask)
    return xs.min(), ys.min(), xs.max() + 1, ys.max() + 1


RECIPE = Augmentation(scale_range=(0.5, 2.5), crop=(96, 64), photometric=0.0)


def test_photo_and_label_stay_aligned_and_one_hot_under_scale_crop_pad_and_flip(tmp_path):
    source = shape_source(write_shapes(tmp_path), RECIPE)
    files = source.train_files[0]
    cases = [SampleTransform(flip, scale, x, y) for flip in (False, True)
             for scale in (0.5, 1.0, 1.7, 2.5) for x, y in ((0.0, 0.0), (0.5, 0.9), (1, 1))]
    seen_shape = seen_padding = 0
    for transform in cases:
        image, labels = source.load_sample(files, transform)
        assert image.shape == (64, 96, 3) and labels.shape == (64, 96, 3)
        assert image.dtype == labels.dtype == np.float32
        check = check_one_hot(labels, allow_zero_rows=True)
        assert not check.bad.any()
        classes = labels_to_class_map(labels)
        assert set(np.unique(classes)) <= {-1, 0, 1}   # class 2 is never invented
        padding = check.zero
        # Padding is don't care in the label and exactly the mean colour in the photo.
        np.testing.assert_allclose(image[padding], np.broadcast_to(
            VGG_MEAN_BGR, image[padding].shape), rtol=1e-6)
        assert not (np.abs(image[~padding] - VGG_MEAN_BGR).max(axis=-1) < 1e-3).any()
        seen_padding += bool(padding.any())
        in_label = classes == 1
        in_photo = image[..., 0] > 175                 # blue channel: the shape's 250
        assert in_label.any() == in_photo.any()
        if in_label.any():
            seen_shape += 1
            # Same box to within the one pixel that bilinear blending smears a border by.
            assert np.abs(np.subtract(bounding_box(in_label), bounding_box(in_photo))).max() <= 1
            assert (in_label & in_photo).sum() >= 0.9 * in_label.sum()
    assert seen_shape >= 12 and seen_padding >= 4     # the cases cover both


def test_the_window_follows_the_scale_and_place(tmp_path):
    source = shape_source(write_shapes(tmp_path), RECIPE)
    _, labels = source.load_sample(source.train_files[0], SampleTransform(False, 2.5, 0, 0))
    # At 2.5 x 128x64 the file is 320x160: the shape's rows 60..140 of 200 become 48..112,
    # columns 150..300 of 400 become 120..240; the window at (0, 0) shows columns 0..96.
    classes = labels_to_class_map(labels)
    assert (classes[:48] == 0).all() and (classes[48:, :] == 0).all()
    _, labels = source.load_sample(source.train_files[0], SampleTransform(False, 2.5, 1, 1))
    classes = labels_to_class_map(labels)      # the bottom-right window: 224..320, 96..160
    assert bounding_box(classes == 1) == (0, 0, 240 - 224, 112 - 96)


def test_window_origin_and_take_window_pad_on_either_side():
    assert [window_origin(100, 60, p) for p in (0, 0.5, 0.999, 1)] == [0, 20, 40, 40]
    assert [window_origin(40, 60, p) for p in (0, 0.5, 1)] == [-20, -10, 0]
    array = np.arange(12).reshape(3, 4)
    window, inside = take_window(array, -1, 1, (3, 3), -1)
    np.testing.assert_array_equal(window, [[-1, 4, 5], [-1, 8, 9], [-1, -1, -1]])
    assert inside == (1, 0, 3, 2)


def test_same_seed_and_epoch_give_identical_batches_whatever_the_threads(tmp_path):
    data_dir = write_shapes(tmp_path, count=7)
    recipe = Augmentation(scale_range=(0.5, 2.0), crop=(96, 64), photometric=0.3)
    runs = []
    for workers in (1, 3):
        source = shape_source(data_dir, recipe, seed=5, workers=workers)
        runs.append([list(source.train_generator(3)) for _ in range(2)])
    for epoch in range(2):
        for (images_a, labels_a), (images_b, labels_b) in zip(runs[0][epoch], runs[1][epoch]):
            np.testing.assert_array_equal(images_a, images_b)
            np.testing.assert_array_equal(labels_a, labels_b)
    first, second = runs[0]
    assert not all(np.array_equal(a[0], b[0]) for a, b in zip(first, second))
    other = shape_source(data_dir, recipe, seed=6)
    assert not np.array_equal(list(other.train_generator(3))[0][0], first[0][0])


def test_without_flags_an_epoch_draws_only_the_shuffle_and_flips(tmp_path):
    rng = np.random.default_rng(3)
    flips = rng.random(5) < 0.5
    state = rng.bit_generator.state
    assert Augmentation().draw_transforms(rng, flips) == [bool(f) for f in flips]
    assert rng.bit_generator.state == state            # the older epochs' streams hold
    source = shape_source(write_shapes(tmp_path), Augmentation())
    images, labels = next(iter(source.train_generator(2)))
    assert images.shape == (2, 64, 128, 3) and labels.shape == (2, 64, 128, 3)


def test_validation_is_never_augmented(tmp_path):
    data_dir = write_shapes(tmp_path)
    plain = shape_source(data_dir, Augmentation())
    augmented = shape_source(data_dir, RECIPE)
    plain.valid_files = augmented.valid_files = plain.train_files
    for (a, la), (b, lb) in zip(plain.valid_generator(2), augmented.valid_generator(2)):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(la, lb)
        assert a.shape[1:3] == (64, 128)


def test_colour_jitter_factors_do_what_they_say():
    rng = np.random.default_rng(0)
    image = rng.uniform(40, 200, (8, 8, 3)).astype(np.float32)
    np.testing.assert_allclose(jitter_colors(image, SampleTransform()), image, atol=1e-3)
    brighter = jitter_colors(image, SampleTransform(brightness=1.2))
    np.testing.assert_allclose(brighter, np.minimum(image * 1.2, 255), atol=1e-3)
    grey = jitter_colors(image, SampleTransform(saturation=0.0))
    np.testing.assert_allclose(grey[..., 0], grey[..., 2], atol=1e-3)   # no colour left
    luma = np.array([0.114, 0.587, 0.299], np.float32)
    turned = jitter_colors(image, SampleTransform(hue=0.25))
    inside = ((turned > 0) & (turned < 255)).all(axis=-1)      # not clipped
    assert inside.mean() > 0.5
    np.testing.assert_allclose((turned @ luma)[inside], (image @ luma)[inside], atol=0.05)
    assert np.abs(turned - image).max() > 10
    flat = jitter_colors(image, SampleTransform(contrast=0.0))
    np.testing.assert_allclose(flat, np.full_like(image, (image @ luma).mean()), atol=1e-2)


@pytest.mark.parametrize('kwargs, message', [
    ({'scale_range': (2.0, 1.0)}, '--scale-range 2.0,1.0'),
    ({'scale_range': (0.0, 1.0)}, '0 < MIN <= MAX'),
    ({'crop': (100, 64)}, 'multiples of 32'),
    ({'photometric': 1.5}, '--photometric must be in [0, 1]'),
])
def test_bad_augmentation_settings_are_one_clear_error(kwargs, message):
    with pytest.raises(UserError, match=message.replace('[', r'\[').replace(']', r'\]')):
        Augmentation(**kwargs)
