"""Resizing (resizing.py): labels and class maps by nearest neighbour keep their colours and
classes; photos shrink by area averaging and grow bilinearly."""
import cv2
import numpy as np
import pytest

from fixtures import nearest_rows
from roadseg.data.resizing import nearest_indices, resize_label, resize_nearest, resize_photo


def test_nearest_resizing_invents_no_colours_where_bilinear_does():
    label = np.zeros((10, 10, 3), dtype=np.uint8)
    label[:, 5:] = (255, 0, 255)
    label[:, :5] = (0, 0, 255)
    for size in ((17, 23), (4, 4), (576, 160)):
        resized = resize_label(label, size)
        assert resized.shape == (size[1], size[0], 3)
        assert {tuple(c) for c in resized.reshape(-1, 3)} == {(255, 0, 255), (0, 0, 255)}
    bilinear = cv2.resize(label, (17, 23), interpolation=cv2.INTER_LINEAR)
    assert len({tuple(c) for c in bilinear.reshape(-1, 3)}) > 2


@pytest.mark.parametrize('in_size, out_size', [(10, 17), (17, 10), (375, 160), (5, 1),
                                               (1, 4), (100, 64)])
def test_nearest_indices_follow_the_pixel_centre_formula(in_size, out_size):
    indices = nearest_indices(in_size, out_size)
    assert indices.tolist() == nearest_rows(in_size, out_size).tolist()
    assert 0 <= indices.min() and indices.max() < in_size


@pytest.mark.parametrize('size', [(64, 32), (576, 160), (33, 7), (100, 50)])
def test_resize_nearest_picks_the_same_pixels_as_resize_label(size):
    classes = np.arange(50 * 100, dtype=np.int32).reshape(50, 100)
    resized = resize_nearest(classes, size)
    assert resized.shape == (size[1], size[0]) and resized.dtype == np.int32
    np.testing.assert_array_equal(resized, resize_label(classes, size))
    np.testing.assert_array_equal(
        resized, classes[nearest_rows(50, size[1])[:, None], nearest_rows(100, size[0])])


def test_resize_photo_averages_when_shrinking_and_interpolates_when_enlarging():
    checker = np.array([[0, 255], [255, 0]], dtype=np.uint8)
    assert resize_photo(checker, (1, 1)).tolist() == [[128]]      # mean 127.5, rounded
    assert resize_photo(checker, (2, 2)) is checker                # already the size
    ramp = np.array([[0, 200]], dtype=np.uint8)
    assert resize_photo(ramp, (4, 1)).tolist() == [[0, 50, 150, 200]]
    assert resize_photo(np.zeros((96, 80, 3), np.uint8), (64, 32)).shape == (32, 64, 3)


def test_two_class_probabilities_enlarged_put_the_boundary_where_they_cross():
    import tensorflow.compat.v1 as tf

    from roadseg.predict import graph_resizing
    road = np.array([0.0, 0.2, 0.6, 1.0], np.float32)        # class 1 along one row
    probabilities = np.stack([1 - road, road], axis=-1)[None, None]     # [1, 1, 4, 2]
    with tf.Graph().as_default(), tf.Session() as session:
        classes = session.run(graph_resizing.to_photo_size(
            tf.constant(probabilities), tf.constant([1, 16]))[1])[0, 0]
    # Half-pixel centres: output column j samples position (j + 0.5) / 4 - 0.5 of the row;
    # between columns 1 (0.2) and 2 (0.6) the road probability crosses 0.5 at 1.75, so
    # output columns whose position exceeds 1.75 (j >= 9) are road, not the nearest block's
    # edge at column 8.
    positions = (np.arange(16) + 0.5) / 4 - 0.5
    expected = (np.interp(positions, np.arange(4), road) > 0.5).astype(np.int32)
    np.testing.assert_array_equal(classes, expected)
    assert classes.tolist().index(1) == 9
