"""The official Cityscapes pixel-level score, computed as cityscapesscripts'
evalPixelLevelSemanticLabeling computes it from label-id images.

IoU per class from one confusion matrix of label ids: ground truth of ignored labels is left
out, a prediction of an ignored label on evaluated ground truth is a miss, false positives
count only on evaluated ground truth. Categories pool their classes. iIoU weighs each
instance's true positives and misses by the class's average instance size over the
instance's size. Means are over the classes (categories) with a score.
"""
import math

import numpy as np

from roadseg.core.errors import UserError
from roadseg.data.cityscapes_labels import (AVERAGE_INSTANCE_SIZE, BY_ID, CATEGORIES, EVALUATED,
                                            LABELS)

NUM_IDS = max(BY_ID) + 1          # the confusion matrix covers label ids 0..33
INSTANCE_OFFSET = 1000            # instance id = label id * 1000 + instance number
# Categories whose every label has instances get an iIoU; their label ids, ignored ones too.
INSTANCE_CATEGORIES = {
    category: [label.id for label in LABELS if label.category == category and label.id >= 0]
    for category in CATEGORIES
    if all(label.has_instances for label in LABELS
           if label.category == category and label.id >= 0)}
INSTANCE_CLASSES = [label.name for label in LABELS
                    if label.has_instances and not label.ignore_in_eval]


class CityscapesScore:
    """Accumulates label-id predictions against ground truth; `result()` gives the scores."""

    def __init__(self):
        self.matrix = np.zeros((NUM_IDS, NUM_IDS), np.int64)
        self.instances = {name: [0.0, 0.0] for name in
                          INSTANCE_CLASSES + list(INSTANCE_CATEGORIES)}  # weighted tp, fn
        self.has_instances = True

    def update(self, prediction, truth, instances=None):
        """Add one image: predicted and true label ids [H, W] and, for iIoU, the instance
        ids [H, W] (without them the image adds nothing to iIoU, which is then None)."""
        prediction, truth = np.asarray(prediction), np.asarray(truth)
        if prediction.shape != truth.shape:
            raise UserError(f'a prediction of {prediction.shape[1]}x{prediction.shape[0]} '
                            f'against ground truth of {truth.shape[1]}x{truth.shape[0]}')
        if truth.min() < 0 or truth.max() >= NUM_IDS:
            raise UserError(f'ground truth holds label id {int(truth.max())}, which Cityscapes '
                            'does not have (0..33)')
        # 16 bits hold every pair (33 * 34 + 33) and halve the memory traffic of 64.
        pairs = truth.astype(np.uint16).ravel() * np.uint16(NUM_IDS) + prediction.ravel()
        self.matrix += np.bincount(pairs, minlength=NUM_IDS ** 2).reshape(NUM_IDS, NUM_IDS)
        if instances is None:
            self.has_instances = False
        else:
            self.add_instances(prediction, np.asarray(instances))

    def add_instances(self, prediction, instances):
        """Add the weighted true positives and misses of every instance of one image."""
        inside = instances > INSTANCE_OFFSET
        ids, index = np.unique(instances[inside], return_inverse=True)
        if not ids.size:
            return
        predicted = prediction[inside]
        label_of = ids // INSTANCE_OFFSET
        sizes = np.bincount(index)
        hits = np.bincount(index, weights=predicted == label_of[index])
        category_hits = {category: np.bincount(index, weights=np.isin(predicted, label_ids),
                                               minlength=ids.size)
                         for category, label_ids in INSTANCE_CATEGORIES.items()}
        for k, label_id in enumerate(label_of):
            label = BY_ID.get(int(label_id))
            if label is None or label.ignore_in_eval or label.name not in self.instances:
                continue
            weight = AVERAGE_INSTANCE_SIZE[label.name] / sizes[k]
            self.add_weighted(label.name, hits[k], sizes[k], weight)
            if label.category in INSTANCE_CATEGORIES:
                self.add_weighted(label.category, category_hits[label.category][k], sizes[k],
                                  weight)

    def add_weighted(self, key, hits, size, weight):
        """Add an instance's weighted true positives and misses to `key`'s totals."""
        self.instances[key][0] += float(hits) * weight
        self.instances[key][1] += float(size - hits) * weight

    def class_iou(self, label, instance=False):
        """Return a label's IoU (or iIoU), nan where the score is undefined."""
        if label.ignore_in_eval or (instance and label.name not in self.instances):
            return math.nan
        others = [l.id for l in EVALUATED if l.id != label.id]
        false_pos = self.matrix[others, label.id].sum()
        if instance:
            hits, misses = self.instances[label.name]
        else:
            hits = self.matrix[label.id, label.id]
            misses = self.matrix[label.id].sum() - hits
        return ratio(hits, hits + misses + false_pos)

    def category_iou(self, category, instance=False):
        """Return a category's IoU (or iIoU), nan where the score is undefined."""
        if instance:
            if category not in INSTANCE_CATEGORIES:
                return math.nan
            ids = INSTANCE_CATEGORIES[category]
            hits, misses = self.instances[category]
        else:
            ids = [l.id for l in EVALUATED if l.category == category]
            if not ids:
                return math.nan
            hits = self.matrix[np.ix_(ids, ids)].sum()
            misses = self.matrix[ids].sum() - hits
        others = [l.id for l in EVALUATED if l.category != category]
        false_pos = self.matrix[np.ix_(others, ids)].sum()
        return ratio(hits, hits + misses + false_pos)

    def result(self):
        """Return {'iou_class', 'iou_category', 'iiou_class', 'iiou_category' (means; the
        iIoU ones None without instance ids), 'per_class', 'per_category' ({name: IoU}),
        'iiou_per_class', 'iiou_per_category'}."""
        labels = [BY_ID[i] for i in sorted(BY_ID)]
        per_class = {l.name: self.class_iou(l) for l in labels}
        per_category = {c: self.category_iou(c) for c in CATEGORIES}
        result = {'iou_class': mean(per_class), 'iou_category': mean(per_category),
                  'iiou_class': None, 'iiou_category': None,
                  'per_class': {l.name: per_class[l.name] for l in EVALUATED},
                  'per_category': {c: v for c, v in per_category.items()
                                   if any(l.category == c for l in EVALUATED)}}
        if self.has_instances:
            inst_class = {l.name: self.class_iou(l, True) for l in labels}
            inst_category = {c: self.category_iou(c, True) for c in CATEGORIES}
            result.update(iiou_class=mean(inst_class), iiou_category=mean(inst_category),
                          iiou_per_class={n: inst_class[n] for n in INSTANCE_CLASSES},
                          iiou_per_category={c: inst_category[c]
                                             for c in INSTANCE_CATEGORIES})
        return result


def class_confusion_scores(matrix, label_ids):
    """Return ({label id: IoU}, mean IoU) of the evaluated classes among `label_ids`, from a
    confusion matrix of classes whose official label ids are `label_ids` (the 19-class
    figure at the training size): the official rules, applied to those pixels."""
    score = CityscapesScore()
    ids = np.asarray(label_ids, np.int64)
    np.add.at(score.matrix, (ids[:, None], ids[None, :]), matrix)
    scores = {l.id: score.class_iou(l) for l in EVALUATED if l.id in set(ids.tolist())}
    return scores, mean(scores)


def ratio(hits, total):
    """Return hits / total as a float, nan when total is 0."""
    return float(hits) / total if total else math.nan


def mean(scores):
    """Return the mean of the scores that are not nan (nan when none is)."""
    values = [v for v in scores.values() if not math.isnan(v)]
    return sum(values) / len(values) if values else math.nan
