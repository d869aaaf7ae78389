"""CamVid's score as the papers report it (SegNet, ENet, DeepLab, Dilation): global accuracy,
class-average accuracy and mean IoU over the 11 classes, void (id 11 and above) left out.

    global accuracy         pixels right / pixels scored
    class-average accuracy  mean over classes of (pixels of the class right / its pixels)
    mean IoU                mean over the 11 classes of TP / (TP + FP + FN)

The ground truth is the label file's ids as stored, read here rather than through the data
source, so the figures do not depend on how the source maps them.
"""
import numpy as np

from roadseg.core.errors import UserError

NUM_CLASSES = 11
CLASS_NAMES = ('Sky', 'Building', 'Pole', 'Road', 'Pavement', 'Tree', 'SignSymbol', 'Fence',
               'Car', 'Pedestrian', 'Bicyclist')


def camvid_figures(confusion):
    """Return the papers' figures of an 11x11 confusion matrix (rows: truth, columns:
    prediction); a class without ground-truth pixels has NaN accuracy and is left out of
    the class average."""
    confusion = np.asarray(confusion, np.float64)
    true_positives = np.diag(confusion)
    truth = confusion.sum(axis=1)
    predicted = confusion.sum(axis=0)
    with np.errstate(invalid='ignore', divide='ignore'):
        accuracy = true_positives / truth
        iou = true_positives / (truth + predicted - true_positives)
    return {'global_accuracy': float(true_positives.sum() / max(confusion.sum(), 1)),
            'class_average_accuracy': float(np.nanmean(accuracy)),
            'mean_iou': float(np.nanmean(iou)),
            'per_class_iou': {name: float(v) for name, v in zip(CLASS_NAMES, iou)},
            'per_class_accuracy': {name: float(v) for name, v in zip(CLASS_NAMES, accuracy)},
            'pixels': int(confusion.sum())}


class CamVidScore:
    """Accumulates the 11-class confusion matrix of predictions against CamVid label ids."""

    def __init__(self):
        self.confusion = np.zeros((NUM_CLASSES, NUM_CLASSES), np.int64)

    def update(self, classes, label_ids):
        """Add a predicted class map [H, W] against the label's ids [H, W] (same size)."""
        if classes.shape != label_ids.shape:
            raise UserError(f'the prediction is {classes.shape[1]}x{classes.shape[0]}, the '
                            f'label {label_ids.shape[1]}x{label_ids.shape[0]}')
        scored = label_ids < NUM_CLASSES
        pairs = label_ids[scored].astype(np.int64) * NUM_CLASSES + classes[scored]
        self.confusion += np.bincount(pairs, minlength=NUM_CLASSES ** 2).reshape(
            NUM_CLASSES, NUM_CLASSES)

    def result(self):
        """Return the figures (camvid_figures) of everything added."""
        return camvid_figures(self.confusion)
