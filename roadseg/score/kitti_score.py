"""The KITTI Road benchmark's pixel scores, computed as its devkit (evaluateRoad.py) does.

Ground truth: road where the label's blue channel is above 0, evaluated where its red
channel is (black is left out). The prediction is the road confidence as the submitted
8-bit PNG holds it, read back as float32 value / 255; at each threshold k / 255
(k = 0..255) a pixel is road when its value is at least the threshold. Counts are pooled
over the images of a category; MaxF is the best F-measure over the thresholds, AP the
11-point average precision, and precision, recall, FPR and FNR are taken at MaxF (in
float32, as the devkit).
"""
import re

import numpy as np

CATEGORIES = ('um', 'umm', 'uu')
ALL = 'urban'                     # the pool of all three
THRESHOLDS = np.arange(256) / 255.0
# The devkit's value of each 8-bit confidence, and whether it is road at each threshold.
LEVELS = (np.arange(256, dtype=np.float32) / np.float32(255)).astype(np.float64)
IS_ROAD = LEVELS[:, None] >= THRESHOLDS[None, :]          # [level, threshold]
LABEL_NAME = re.compile(r'(um|umm|uu)_(?:road|lane)_(\d+)\.png')


def confidence(probability):
    """Return the 8-bit road confidence (what the submission PNG holds) of probabilities."""
    return np.rint(np.clip(probability, 0, 1) * 255).astype(np.uint8)


def category_of(label_name):
    """Return the category (um, umm, uu) of a label file name like um_road_000012.png, or
    None for other names."""
    match = LABEL_NAME.fullmatch(label_name)
    return match.group(1) if match else None


class KittiRoadScore:
    """Accumulates road confidences against KITTI Road labels, per category."""

    def __init__(self):
        self.road = {c: np.zeros(256, np.int64) for c in CATEGORIES}      # per level
        self.other = {c: np.zeros(256, np.int64) for c in CATEGORIES}

    def update(self, category, road_confidence, label):
        """Add one image: its category, uint8 confidence [H, W] and BGR label [H, W, 3]."""
        road, valid = label[..., 0] > 0, label[..., 2] > 0
        self.road[category] += np.bincount(road_confidence[road & valid], minlength=256)
        self.other[category] += np.bincount(road_confidence[~road & valid], minlength=256)

    def result(self):
        """Return {'<category>_road': scores} for the categories seen and 'urban_road' for
        all of them; scores: max_f, ap, precision, recall, fpr, fnr, threshold."""
        seen = [c for c in CATEGORIES if self.road[c].sum() + self.other[c].sum()]
        result = {f'{c}_road': scores(self.road[c], self.other[c]) for c in seen}
        if seen:
            result[f'{ALL}_road'] = scores(sum(self.road[c] for c in seen),
                                           sum(self.other[c] for c in seen))
        return result


def scores(road_levels, other_levels):
    """Return the devkit's scores from counts of road and other pixels per 8-bit level."""
    positives, negatives = road_levels.sum(), other_levels.sum()
    false_neg = (road_levels[:, None] * ~IS_ROAD).sum(axis=0).astype(np.float64)
    false_pos = (other_levels[:, None] * IS_ROAD).sum(axis=0).astype(np.float64)
    true_pos, true_neg = positives - false_neg, negatives - false_pos
    with np.errstate(invalid='ignore', divide='ignore'):
        recall = true_pos / float(positives)
    precision = true_pos / (true_pos + false_pos + 1e-10)
    kept = ~((recall == 0) & (precision == 0))
    recall, precision = recall[kept], precision[kept]
    if not recall.size:
        return {'max_f': 0.0, 'ap': 0.0, 'precision': 0.0, 'recall': 0.0,
                'fpr': float('nan'), 'fnr': float('nan'), 'threshold': float('nan')}
    # 11-point average precision over recall levels 0, 0.1, ..., 1 (as np.arange makes them).
    points = [precision[recall >= level].max() for level in np.arange(0, 1.1, 0.1)
              if (recall >= level).any()]
    ap = sum(points) / len(points)
    f_measure = 2.0 * (precision * recall) / (precision + recall + 1e-10)
    best = int(f_measure.argmax())
    tp, tn, fp, fn = (np.float32(np.uint32(v[best]))
                      for v in (true_pos, true_neg, false_pos, false_neg))
    with np.errstate(invalid='ignore', divide='ignore'):
            return {'max_f': float(f_measure[best]), 'ap': float(ap),
                    'precision': float(tp / (tp + fp)), 'recall': float(tp / (tp + fn)),
                    'fpr': float(fp / (tn + fp)), 'fnr': float(fn / (tp + fn)),
                    'threshold': float(THRESHOLDS[best])}
