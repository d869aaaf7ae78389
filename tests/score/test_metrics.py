"""The confusion-matrix metrics against an independent per-class computation."""
import numpy as np
import pytest

from roadseg.score.metrics import ConfusionMatrix


def reference_metrics(truth, prediction, num_classes):
    """Per-class IoU, pixel accuracy and mean IoU computed one class at a time."""
    cared = truth >= 0
    ious = []
    for c in range(num_classes):
        in_truth, in_prediction = (truth == c) & cared, (prediction == c) & cared
        union = (in_truth | in_prediction).sum()
        ious.append((in_truth & in_prediction).sum() / union if union else np.nan)
    accuracy = (truth[cared] == prediction[cared]).mean()
    present = [v for v in ious if not np.isnan(v)]
    return ious, accuracy, sum(present) / len(present)


@pytest.mark.parametrize('seed', range(5))
def test_equals_per_class_computation_on_random_maps(seed):
    rng = np.random.RandomState(seed)
    num_classes = 6
    truth = rng.randint(-1, num_classes - 1, [3, 17, 23])       # class 5 never in truth
    prediction = rng.randint(0, num_classes - 1, [3, 17, 23])   # ... nor in prediction
    prediction[0, 0, :4] = 4
    confusion = ConfusionMatrix(num_classes)
    for t, p in zip(truth, prediction):                         # accumulates across updates
        confusion.update(t, p)
    ious, accuracy, mean_iou = reference_metrics(truth, prediction, num_classes)
    np.testing.assert_allclose(confusion.iou(), ious, equal_nan=True)
    assert np.isnan(confusion.iou()[5])
    assert confusion.pixel_accuracy() == pytest.approx(accuracy)
    assert confusion.mean_iou() == pytest.approx(mean_iou)
    assert confusion.matrix.sum() == (truth >= 0).sum()


def test_perfect_prediction_and_dont_care():
    truth = np.array([[0, 1, -1], [2, 2, -1]])
    prediction = np.array([[0, 1, 0], [2, 2, 1]])
    confusion = ConfusionMatrix(3)
    confusion.update(truth, prediction)
    assert confusion.pixel_accuracy() == 1.0 and confusion.mean_iou() == 1.0
    wrong = ConfusionMatrix(3)
    wrong.update(truth, np.zeros_like(truth))
    np.testing.assert_allclose(wrong.iou(), [0.25, 0.0, 0.0])


def test_max_f_equals_brute_force_threshold_sweep():
    from roadseg.score.metrics import KITTI_THRESHOLDS, MaxF
    rng = np.random.RandomState(7)
    truth = rng.choice([-1, 0, 1], size=[4, 30, 40], p=[0.1, 0.5, 0.4])
    probability = np.clip(0.35 * (truth == 1) + rng.uniform(0, 0.7, truth.shape), 0, 1)
    probability[0, 0, :10] = KITTI_THRESHOLDS[100:110]     # exactly on thresholds
    sweep = MaxF()
    for t, p in zip(truth, probability):
        sweep.update(t, p)
    best_f, best_t = -1, None
    cared = truth >= 0
    for threshold in KITTI_THRESHOLDS:
        predicted = probability[cared] >= threshold
        actual = truth[cared] == 1
        tp = (predicted & actual).sum()
        precision = tp / predicted.sum() if predicted.sum() else 0
        recall = tp / actual.sum()
        f = 2 * precision * recall / (precision + recall) if precision + recall else 0
        if f > best_f:
            best_f, best_t = f, threshold
    result = sweep.result()
    assert result['max_f'] == pytest.approx(best_f, abs=1e-12)
    assert result['threshold'] == best_t
    assert 0.5 < result['max_f'] < 1


def test_binary_scores():
    from roadseg.score.metrics import binary_scores
    confusion = ConfusionMatrix(2)
    confusion.update(np.array([1, 1, 1, 0, 0, -1]), np.array([1, 1, 0, 1, 0, 1]))
    scores = binary_scores(confusion)
    assert scores['precision'] == pytest.approx(2 / 3) and scores['recall'] == pytest.approx(2 / 3)
    assert scores['f1'] == pytest.approx(2 / 3)
