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
        cared = truth >= 0
        pairs = truth[cared].astype(np.int64) * self.num_classes + prediction[cared]
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
