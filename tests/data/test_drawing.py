"""Drawing (drawing.py): class colours and colours blended on photos."""
import numpy as np

from roadseg.data.drawing import blend_labels, class_map_to_colors


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
    painted = class_map_to_colors(classes, colors, background=(9, 9, 9))
    assert painted[0].tolist() == [[0, 0, 200], [255, 255, 255], [9, 9, 9]]
