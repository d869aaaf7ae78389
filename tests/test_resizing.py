"""Resizing (resizing.py): labels resized by nearest neighbour keep their colours."""
import cv2
import numpy as np

import utils


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
