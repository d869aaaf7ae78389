"""Segmentation metrics from one confusion matrix: pixel accuracy, per-class IoU, mean IoU."""
import numpy as np


class ConfusionMatrix:
    """Counts of (ground truth class, predicted class) over pixels; negative truth is skipped.

    Rows are ground truth, columns predictions. Pixels whose ground truth is negative (the
    don't-care pixels of a source with `ignores_pixels`) are left out of every metric.
    """

    def __init__(self, num_classes):
        self.num_classes = num_classes
        self.matrix = np.zeros([num_classes, num_classes], np.int64)

    def update(self, truth, prediction):
        """Add the pixels of class maps `truth` and `prediction` (same shape, integers)."""
        truth, prediction = np.asarray(truth).ravel(), np.asarray(prediction).ravel()
        pairs = truth.astype(np.int64) * self.num_classes + prediction
        if truth.size and truth.min() < 0:     # don't-care pixels: left out
            pairs = pairs[truth >= 0]
        counts = np.bincount(pairs, minlength=self.num_classes ** 2)
        self.matrix += counts.reshape(self.num_classes, self.num_classes)

    def pixel_accuracy(self):
        """Return the fraction of counted pixels predicted right (nan when there are none)."""
        total = self.matrix.sum()
        return float(np.trace(self.matrix) / total) if total else float('nan')

    def iou(self):
        """Return per-class IoU; nan for a class absent from both ground truth and prediction."""
        hits = np.diag(self.matrix).astype(np.float64)
        union = self.matrix.sum(axis=0) + self.matrix.sum(axis=1) - hits
        with np.errstate(invalid='ignore', divide='ignore'):
            return np.where(union > 0, hits / union, np.nan)

    def mean_iou(self):
        """Return the mean IoU over classes present in ground truth or prediction."""
        iou = self.iou()
        return float(np.nanmean(iou)) if np.isfinite(iou).any() else float('nan')


KITTI_THRESHOLDS = np.arange(256) / 255.0


def binary_scores(confusion, positive=1):
    """Return precision, recall and F1 of class `positive` from a confusion matrix."""
    hits = confusion.matrix[positive, positive]
    predicted, actual = confusion.matrix[:, positive].sum(), confusion.matrix[positive].sum()
    precision = hits / predicted if predicted else float('nan')
    recall = hits / actual if actual else float('nan')
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else float('nan')
    return {'precision': float(precision), 'recall': float(recall), 'f1': float(f1)}


class MaxF:
    """KITTI-style MaxF: the best F-measure over thresholds of the positive probability.

    A pixel counts as positive at threshold t when its probability is >= t. Probabilities
    are binned by threshold as they arrive, so the sweep costs one pass over the pixels.
    """

    def __init__(self, thresholds=KITTI_THRESHOLDS):
        self.thresholds = np.asarray(thresholds, np.float64)
        self.positives = np.zeros(len(self.thresholds) + 1, np.int64)
        self.negatives = np.zeros(len(self.thresholds) + 1, np.int64)

    def update(self, truth, probability, positive=1):
        """Add pixels: class map `truth` (negative: don't care) and positive probabilities."""
        truth, probability = np.asarray(truth).ravel(), np.asarray(probability).ravel()
        cared = truth >= 0
        # Number of thresholds <= p: the pixel is positive at thresholds 0 .. bins - 1.
        bins = np.searchsorted(self.thresholds, probability[cared], side='right')
        is_positive = truth[cared] == positive
        size = len(self.thresholds) + 1
        self.positives += np.bincount(bins[is_positive], minlength=size)
        self.negatives += np.bincount(bins[~is_positive], minlength=size)

    def result(self):
        """Return {'max_f', 'threshold', 'precision', 'recall'} at the best threshold."""
        true_pos = self.positives.sum() - np.cumsum(self.positives)[:-1]
        false_pos = self.negatives.sum() - np.cumsum(self.negatives)[:-1]
        with np.errstate(invalid='ignore', divide='ignore'):
            precision = true_pos / (true_pos + false_pos)
            recall = true_pos / self.positives.sum()
            f = np.nan_to_num(2 * precision * recall / (precision + recall))
        best = int(np.argmax(f))
        return {'max_f': float(f[best]), 'threshold': float(self.thresholds[best]),
                'precision': float(np.nan_to_num(precision[best])),
                'recall': float(np.nan_to_num(recall[best]))}
