"""cityscapes_score.py against cityscapesscripts' own evaluation of the same files."""
import os

import cv2
import numpy as np
import pytest

from roadseg.data import cityscapes_labels
from roadseg.score.cityscapes_score import CityscapesScore

official = pytest.importorskip('cityscapesscripts.evaluation.evalPixelLevelSemanticLabeling')
official_labels = pytest.importorskip('cityscapesscripts.helpers.labels')


def test_the_label_table_is_the_official_one():
    ours = [tuple(label) for label in cityscapes_labels.LABELS]
    theirs = [(l.name, l.id, l.trainId, l.category, l.hasInstances, l.ignoreInEval, l.color)
              for l in official_labels.labels]
    assert ours == theirs
    assert cityscapes_labels.AVERAGE_INSTANCE_SIZE == official.args.avgClassSize
    assert len(cityscapes_labels.EVALUATED) == 19


def random_scene(rng, height=96, width=160):
    """Return (label ids, instance ids, a prediction that is partly right) of a scene with
    blocks of every label id, thin poles and instances."""
    truth = rng.choice(np.arange(34), size=(height // 8, width // 8)).astype(np.uint8)
    truth = cv2.resize(truth, (width, height), interpolation=cv2.INTER_NEAREST)
    truth[:, 5:7] = 17                                    # a thin pole
    truth[:, 40:41] = 18                                  # polegroup, ignored
    instances = truth.astype(np.int32)
    number = 0
    for label_id in (24, 25, 26, 27, 28, 29, 31, 32, 33):
        ys, xs = np.nonzero(truth == label_id)
        for k, (y, x) in enumerate(zip(ys[::37], xs[::37])):
            number += 1                                   # an instance: a box in the class
            box = (slice(y, y + 5), slice(x, x + 7))
            instances[box] = np.where(truth[box] == label_id, label_id * 1000 + k,
                                      instances[box])
    prediction = truth.copy()
    wrong = rng.random(truth.shape) < 0.3
    prediction[wrong] = rng.choice(np.arange(34), size=wrong.sum())
    return prediction, truth, instances


def official_scores(tmp_path, scenes, monkeypatch):
    """Return cityscapesscripts' result dict for scenes written as files."""
    # The script calls np.in1d, which NumPy 2.4 removed; np.isin is its documented successor
    # and gives the same flattened mask once reshaped, as the script does.
    if not hasattr(np, 'in1d'):
        monkeypatch.setattr(np, 'in1d', lambda a, b: np.isin(a, b).ravel(), raising=False)
    predictions, truths = [], []
    for k, (prediction, truth, instances) in enumerate(scenes):
        stem = os.path.join(tmp_path, f'city_000000_{k:06d}')
        cv2.imwrite(stem + '_pred.png', prediction)
        cv2.imwrite(stem + '_gtFine_labelIds.png', truth)
        cv2.imwrite(stem + '_gtFine_instanceIds.png', instances.astype(np.uint16))
        predictions.append(stem + '_pred.png')
        truths.append(stem + '_gtFine_labelIds.png')
    args = official.args
    args.quiet, args.JSONOutput = True, False
    args.exportFile = os.path.join(tmp_path, 'result.json')
    return official.evaluateImgLists(predictions, truths, args)


def test_scores_equal_the_official_script(tmp_path, monkeypatch):
    rng = np.random.default_rng(3)
    scenes = [random_scene(rng) for _ in range(3)]
    ours = CityscapesScore()
    for prediction, truth, instances in scenes:
        ours.update(prediction, truth, instances)
    result = ours.result()
    theirs = official_scores(str(tmp_path), scenes, monkeypatch)
    assert result['iou_class'] == pytest.approx(theirs['averageScoreClasses'], abs=1e-6)
    assert result['iou_category'] == pytest.approx(theirs['averageScoreCategories'], abs=1e-6)
    assert result['iiou_class'] == pytest.approx(theirs['averageScoreInstClasses'], abs=1e-6)
    assert result['iiou_category'] == pytest.approx(theirs['averageScoreInstCategories'],
                                                    abs=1e-6)
    for name, value in result['per_class'].items():
        assert value == pytest.approx(theirs['classScores'][name], abs=1e-6), name
    for name, value in result['iiou_per_class'].items():
        assert value == pytest.approx(theirs['classInstScores'][name], abs=1e-6, nan_ok=True)
    assert 0.3 < result['iou_class'] < 0.9 and 0 < result['iiou_class'] < 1


def test_a_perfect_prediction_scores_one_and_ignored_truth_is_left_out():
    rng = np.random.default_rng(4)
    _, truth, instances = random_scene(rng)
    score = CityscapesScore()
    prediction = truth.copy()
    prediction[truth == 18] = 0          # polegroup is ignored: anything may be predicted
    score.update(prediction, truth, instances)
    result = score.result()
    assert result['iou_class'] == 1.0 and result['iiou_class'] == 1.0
    assert set(result['per_class']) == {l.name for l in cityscapes_labels.EVALUATED}


def test_without_instance_ids_there_is_no_iiou():
    score = CityscapesScore()
    truth = np.full((4, 4), 7, np.uint8)
    score.update(truth, truth)
    assert score.result()['iiou_class'] is None and score.result()['iou_class'] == 1.0


def test_ground_truth_of_another_size_or_unknown_ids_is_one_clear_error():
    from roadseg.core.errors import UserError
    score = CityscapesScore()
    with pytest.raises(UserError, match='prediction of 4x2 against ground truth of 4x3'):
        score.update(np.zeros((2, 4), np.uint8), np.zeros((3, 4), np.uint8))
    with pytest.raises(UserError, match='label id 40'):
        score.update(np.zeros((2, 2), np.uint8), np.full((2, 2), 40, np.uint8))


def test_cityscapes_benchmark_follows_the_official_rules():
    from roadseg.score.cityscapes_score import class_confusion_scores
    from roadseg.score.metrics import ConfusionMatrix
    label_ids = [0, 7, 8, 26]          # unlabeled (ignored), road, sidewalk, car
    unlabeled, road, sidewalk, car = range(4)
    truth = np.array([road, road, unlabeled, sidewalk, sidewalk, sidewalk])
    prediction = np.array([road, road, road, unlabeled, road, sidewalk])
    confusion = ConfusionMatrix(4)
    confusion.update(truth, prediction)
    scores, mean = class_confusion_scores(confusion.matrix, label_ids)
    # road: 2 hits; its prediction on ignored ground truth is not a false positive, its
    # prediction on a sidewalk pixel is.
    assert scores[7] == pytest.approx(2 / 3)
    # sidewalk: 1 hit; the pixel predicted 'unlabeled' (an ignored class) is still a miss.
    assert scores[8] == pytest.approx(1 / 3)
    # car: absent from both, so nan and out of the mean.
    assert np.isnan(scores[26])
    assert mean == pytest.approx(0.5)
    assert set(scores) == {7, 8, 26}
