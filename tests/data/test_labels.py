"""Labels (labels.py): colour lookup, one-hot rows and back, the one-hot check."""
import numpy as np

from roadseg.data.labels import (check_one_hot, colors_to_class_map, first_coordinates,
                                 labels_to_class_map, one_hot)


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
        classes = colors_to_class_map(label, colors, unknown)
        assert classes.dtype == np.int32 and classes.shape == (37, 53)
        np.testing.assert_array_equal(classes, per_class_lookup(label, colors, unknown))
    assert (colors_to_class_map(label, {}) == -1).all()


def test_colour_lookup_first_class_wins_a_shared_colour():
    label = np.array([[[5, 6, 7], [0, 0, 0]]], dtype=np.uint8)
    classes = colors_to_class_map(label, {3: (5, 6, 7), 1: (5, 6, 7), 0: (0, 0, 0)})
    assert classes.tolist() == [[3, 0]]


def test_one_hot_and_back():
    classes = np.array([[0, 2, -1], [1, 1, 2]])
    labels = one_hot(classes, 3)
    assert labels.dtype == np.float32 and labels.shape == (2, 3, 3)
    assert labels[0, 1].tolist() == [0, 0, 1] and labels[0, 2].tolist() == [0, 0, 0]
    np.testing.assert_array_equal(labels_to_class_map(labels), classes)
    assert labels_to_class_map(labels[None]).shape == (1, 2, 3)
    assert one_hot(np.array([3, 7, -5]), 3).tolist() == [[0, 0, 0]] * 3


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
