"""The benchmarks a data source can be scored and submitted on: Cityscapes, KITTI Road and
CamVid.

A source names its benchmark in its optional `benchmark` attribute. For each benchmark this
module knows the submission files (`infer.py --benchmark-results DIR`) and reads the ground
truth its official score needs (`infer.py --evaluate`).
"""
import os
import re
from dataclasses import dataclass

import cv2
import numpy as np

from roadseg.core.errors import UserError
from roadseg.data import images
from roadseg.score import kitti_score
from roadseg.score.camvid_score import CamVidScore
from roadseg.score.cityscapes_score import CityscapesScore

CITYSCAPES, KITTI_ROAD, CAMVID = 'cityscapes', 'kitti_road', 'camvid'
BENCHMARKS = (CITYSCAPES, KITTI_ROAD, CAMVID)
SCORE_KEYS = {CITYSCAPES: 'cityscapes_official', KITTI_ROAD: 'kitti_official',
              CAMVID: 'camvid'}
CITYSCAPES_PHOTO = re.compile(r'(.+)_(\d+)_(\d+)_leftImg8bit\.png')
KITTI_PHOTO = re.compile(r'(um|umm|uu)_(\d+)\.png')
CITYSCAPES_TRUTH = ('_gtFine_color.png', '_gtFine_labelIds.png')
KITTI_ROAD_CLASS = 1          # a KITTI Road source's class 1 is road


@dataclass(frozen=True)
class Benchmark:
    """One benchmark as a source uses it: its name and, for Cityscapes, each class's
    official label id."""

    name: str
    label_ids: tuple = ()

    def probability_of(self):
        """Return the class whose probability the submission holds (None: class maps)."""
        return KITTI_ROAD_CLASS if self.name == KITTI_ROAD else None

    def submission_path(self, photo_name):
        """Return the submission file's path, relative to DIR, of a photo, or None when the
        photo's name is not one of the benchmark's."""
        if self.name == CAMVID:     # the label file's name: the photo's
            return photo_name if photo_name.lower().endswith('.png') else None
        if self.name == CITYSCAPES:
            match = CITYSCAPES_PHOTO.fullmatch(photo_name)
            return os.path.join(match.group(1), photo_name) if match else None
        match = KITTI_PHOTO.fullmatch(photo_name)
        return f'{match.group(1)}_road_{match.group(2)}.png' if match else None

    def submission_image(self, prediction):
        """Return the uint8 image the benchmark takes: official label ids (Cityscapes), the
        road confidence 0..255 (KITTI) or class ids as CamVid's label files hold them."""
        if self.name == CAMVID:
            return prediction.classes.astype(np.uint8)
        if self.name == CITYSCAPES:
            # One OpenCV table lookup on 8-bit classes: several times faster than indexing.
            table = np.zeros(256, np.uint8)
            table[:len(self.label_ids)] = self.label_ids
            return cv2.LUT(prediction.classes.astype(np.uint8), table)
        return kitti_score.confidence(prediction.probability)

    def expected_names(self):
        """Return how the benchmark's photos are named, for messages."""
        return {CITYSCAPES: '<city>_<seq>_<frame>_leftImg8bit.png',
                KITTI_ROAD: '<um|umm|uu>_<n>.png', CAMVID: '<name>.png'}[self.name]


def source_benchmark(source, optional):
    """Return the `Benchmark` of a source (through sources.optional), or None."""
    name = optional(source, 'benchmark')
    if name is None:
        return None
    if name not in BENCHMARKS:
        raise UserError(f'the data source names the benchmark {name!r}; known: {BENCHMARKS}')
    label_ids = tuple(optional(source, 'label_ids') or ())
    if name == CITYSCAPES and len(label_ids) != source.num_classes:
        raise UserError('a Cityscapes data source needs a label id per class (label_ids)')
    return Benchmark(name, label_ids)


class OfficialScore:
    """The official score of a benchmark over a source's validation pairs:
    `truth_and_label` reads what it needs (in the reader thread), `update` adds a
    prediction."""

    def __init__(self, benchmark):
        self.benchmark = benchmark
        self.score = {CITYSCAPES: CityscapesScore, KITTI_ROAD: kitti_score.KittiRoadScore,
                      CAMVID: CamVidScore}[benchmark.name]()
        self.key = SCORE_KEYS[benchmark.name]
        self.missing = []      # label files without the official ground truth

    def truth_and_label(self, label_path):
        """Return (official ground truth or None, the label file as decoded for it, or None
        when it read other files): the label need not be read again."""
        if self.benchmark.name == CAMVID:
            label_ids = images.read_image(label_path, unchanged=True)
            return label_ids, label_ids
        if self.benchmark.name == KITTI_ROAD:
            category = kitti_score.category_of(os.path.basename(label_path))
            if category is None:
                return None, None
            label = images.read_image(label_path)
            return (category, label), label
        stem = next((label_path[:-len(s)] for s in CITYSCAPES_TRUTH if label_path.endswith(s)),
                    None)
        ids_path = None if stem is None else f'{stem}_gtFine_labelIds.png'
        if ids_path is None or not os.path.isfile(ids_path):
            return None, None
        label_ids = images.read_image(ids_path, unchanged=True)
        instances_path = stem + '_gtFine_instanceIds.png'
        instances = (images.read_image(instances_path, unchanged=True)
                     if os.path.isfile(instances_path) else None)
        return (label_ids, instances), (label_ids if label_path == ids_path else None)

    def update(self, label_path, truth, prediction):
        """Add one prediction against its truth (None: counted as missing)."""
        if truth is None:
            self.missing.append(label_path)
        elif self.benchmark.name == KITTI_ROAD:
            category, label = truth
            self.score.update(category, kitti_score.confidence(prediction.probability), label)
        elif self.benchmark.name == CAMVID:
            self.score.update(prediction.classes, truth)
        else:
            try:
                self.score.update(self.benchmark.submission_image(prediction), *truth)
            except UserError as error:
                raise UserError(f'{label_path}: {error}') from None

    def result(self):
        """Return the official scores, or None when some image lacked its ground truth."""
        return None if self.missing else self.score.result()
