"""kitti_score.py against an independent per-threshold count on written confidence PNGs."""
import os

import cv2
import numpy as np
import pytest

from roadseg.score import kitti_score

MAGENTA, RED, BLACK, BLUE = (255, 0, 255), (0, 0, 255), (0, 0, 0), (255, 0, 0)   # BGR


def scene(rng, height=37, width=61):
    """Return (label BGR, road probability) of a scene: road below a slanted line, a black
    border, a few stray pure-blue pixels, and a noisy probability."""
    rows, cols = np.mgrid[:height, :width]
    road = rows > height / 2 + (cols - width / 2) * 0.2
    label = np.where(road[..., None], MAGENTA, RED).astype(np.uint8)
    label[:, :3] = BLACK
    label[rng.integers(0, height, 5), rng.integers(0, width, 5)] = BLUE
    probability = np.clip(road * 0.7 + rng.normal(0.15, 0.25, road.shape), 0, 1)
    return label, probability


def brute_force(files):
    """Return {category: (max_f, ap, threshold)} counted threshold by threshold on files."""
    counts = {}
    for category, confidence_file, label_file in files:
        label = cv2.imread(label_file, cv2.IMREAD_UNCHANGED)
        value = cv2.imread(confidence_file, cv2.IMREAD_GRAYSCALE).astype(np.float32) / 255
        road, valid = label[..., 0] > 0, label[..., 2] > 0
        for key in (category, 'urban'):
            tp, fp, pos = counts.setdefault(key, (np.zeros(256), np.zeros(256), [0]))
            pos[0] += np.sum(road & valid)
            for k in range(256):
                said = value >= k / 255.0
                tp[k] += np.sum(said & road & valid)
                fp[k] += np.sum(said & ~road & valid)
    result = {}
    for key, (tp, fp, pos) in counts.items():
        recall, precision = tp / pos[0], tp / (tp + fp + 1e-10)
        keep = ~((recall == 0) & (precision == 0))
        recall, precision = recall[keep], precision[keep]
        f = 2.0 * (precision * recall) / (precision + recall + 1e-10)
        ap = np.mean([precision[recall >= r].max() for r in np.arange(0, 1.1, 0.1)])
        result[f'{key}_road'] = (f.max(), ap, np.flatnonzero(keep)[f.argmax()] / 255.0)
    return result


def test_scores_equal_a_brute_force_count_on_the_written_files(tmp_path):
    rng = np.random.default_rng(5)
    score, files = kitti_score.KittiRoadScore(), []
    for k, category in enumerate(['um', 'um', 'umm', 'uu', 'uu', 'uu']):
        label, probability = scene(rng)
        confidence = kitti_score.confidence(probability)
        paths = (os.path.join(tmp_path, f'{category}_road_{k:06d}.png'),
                 os.path.join(tmp_path, f'gt_{category}_road_{k:06d}.png'))
        cv2.imwrite(paths[0], confidence)
        cv2.imwrite(paths[1], label)
        files.append((category, *paths))
        score.update(category, confidence, label)
    result, expected = score.result(), brute_force(files)
    assert set(result) == {'um_road', 'umm_road', 'uu_road', 'urban_road'}
    for key, (max_f, ap, threshold) in expected.items():
        assert result[key]['max_f'] == pytest.approx(max_f, abs=1e-9), key
        assert result[key]['ap'] == pytest.approx(ap, abs=1e-9), key
        assert result[key]['threshold'] == pytest.approx(threshold), key
        assert 0.5 < result[key]['max_f'] < 1
        assert result[key]['recall'] == pytest.approx(1 - result[key]['fnr'], abs=1e-6)


def test_black_and_stray_blue_pixels_are_left_out():
    label = np.array([[MAGENTA, RED, BLACK, BLUE]], np.uint8)
    score = kitti_score.KittiRoadScore()
    # Right on road and not-road; black and blue (not evaluated) say the opposite.
    score.update('um', np.array([[255, 0, 0, 255]], np.uint8), label)
    result = score.result()['um_road']
    assert result['max_f'] == pytest.approx(1.0) and result['fpr'] == 0.0


def test_confidence_rounds_to_the_nearest_level_and_names_give_categories():
    np.testing.assert_array_equal(kitti_score.confidence(np.array([0, 0.5 / 255, 0.999, 1.2])),
                                  [0, 0, 255, 255])
    assert kitti_score.category_of('umm_road_000012.png') == 'umm'
    assert kitti_score.category_of('um_000012.png') is None
