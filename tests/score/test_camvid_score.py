"""CamVid's figures (camvid_score.py) against a hand computation on a small confusion matrix,
and the matrix counted from class maps with void left out."""
import numpy as np
import pytest

from roadseg.score.camvid_score import CLASS_NAMES, CamVidScore, camvid_figures


def test_the_three_figures_by_hand():
    confusion = np.zeros((11, 11), np.int64)
    confusion[0, 0], confusion[0, 1] = 8, 2        # Sky: 8 of 10 right, 2 called Building
    confusion[1, 1], confusion[1, 0] = 3, 1        # Building: 3 of 4 right
    confusion[3, 3] = 6                            # Road: all 6 right
    figures = camvid_figures(confusion)
    assert figures['global_accuracy'] == pytest.approx(17 / 20)
    assert figures['class_average_accuracy'] == pytest.approx((8 / 10 + 3 / 4 + 1) / 3)
    # IoU: Sky 8 / (10 + 9 - 8), Building 3 / (4 + 5 - 3), Road 1; the classes absent from
    # truth and prediction are left out of the mean.
    assert figures['per_class_iou']['Sky'] == pytest.approx(8 / 11)
    assert figures['per_class_iou']['Building'] == pytest.approx(3 / 6)
    assert figures['mean_iou'] == pytest.approx((8 / 11 + 0.5 + 1) / 3)
    assert np.isnan(figures['per_class_iou']['Pole'])
    assert list(figures['per_class_iou']) == list(CLASS_NAMES)


def test_void_and_ids_above_it_are_not_scored():
    truth = np.array([[0, 1, 11, 12], [255, 3, 3, 10]], np.uint8)
    predicted = np.array([[0, 0, 5, 5], [5, 3, 4, 10]], np.int32)
    score = CamVidScore()
    score.update(predicted, truth)
    expected = np.zeros((11, 11), np.int64)
    for t, p in [(0, 0), (1, 0), (3, 3), (3, 4), (10, 10)]:
        expected[t, p] += 1
    np.testing.assert_array_equal(score.confusion, expected)
    assert score.result()['pixels'] == 5
    assert score.result()['global_accuracy'] == pytest.approx(3 / 5)
