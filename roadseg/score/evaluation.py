"""Scoring a trained model on its data source's validation split (infer.py --evaluate).

Three kinds of score, each named for what it is:

* `full_resolution`: this project's score on the source's classes, each photo predicted at
  its own size (roadseg/predict/prediction.py) against its label file at that size;
* `training_size`: the same at the run's image size, the network's own class map against
  the label resized by nearest neighbour, as training validates (only at the default input
  scale; sources without label files get only this one, from their generator);
* `cityscapes_official` / `kitti_official` / `camvid`: the benchmark's own figures
  (cityscapes_score.py, kitti_score.py, camvid_score.py) where the source names its
  benchmark and the ground truth is there.
"""
import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Optional

import numpy as np
from tqdm import tqdm

from roadseg.core.errors import UserError
from roadseg.core.files import make_directory, write_json
from roadseg.core.streams import background, batched
from roadseg.data import resizing, sources
from roadseg.data.images import read_image
from roadseg.data.labels import labels_to_class_map
from roadseg.predict.tta import InferenceOptions
from roadseg.score import metrics
from roadseg.score.cityscapes_score import class_confusion_scores
from roadseg.score.submissions import OfficialScore, source_benchmark

METRICS_FILE = 'metrics.json'


@dataclass(frozen=True)
class EvaluationOptions:
    """What `infer.py --evaluate` scores, how, and where metrics.json goes.

    `data_source` and `data_dir` replace the run's own (None: the run's); `input_scale` as
    in prediction.Predictor; `all_samples` scores every sample, not the validation split;
    `split` one of the source's own splits (CamVid's test) instead of its validation split.
    """

    output_dir: str
    batch_size: int = 4
    data_source: Optional[str] = None
    data_dir: Optional[str] = None
    input_scale: Optional[float] = None
    all_samples: bool = False
    split: Optional[str] = None

    def source_name(self, settings):
        """Return the data source to score: the one asked for, else the run's."""
        return self.data_source or settings.data_source

    def data_folder(self, settings):
        """Return the data folder to score: the one asked for, else the run's."""
        return self.data_dir or settings.data_dir


def load_validation_source(settings, options=None):
    """Return the data source to score (`options`, else the run's), loaded with the run's
    split; a folder without training files is scored whole, and with `all_samples` any
    folder is."""
    options = options or EvaluationOptions(output_dir=settings.name)
    name, directory = options.source_name(settings), options.data_folder(settings)
    source = sources.load_source_data(name, directory, settings.valid_fraction, settings.seed,
                                      validation_only=options.all_samples, for_training=False,
                                      split=options.split)
    if source.num_classes != settings.num_classes:
        raise UserError(f'{name} has {source.num_classes} classes, the run was trained '
                        f'for {settings.num_classes}')
    if not source.num_validation:
        raise UserError(f'{name} has no validation samples in {directory} to evaluate')
    if name == settings.data_source and not options.all_samples:
        sources.warn_if_trained_on(source, settings.train_splits)
    return source


class Scores:
    """A confusion matrix and, for two classes, MaxF over the road probability."""

    def __init__(self, num_classes):
        self.confusion = metrics.ConfusionMatrix(num_classes)
        self.max_f = metrics.MaxF() if num_classes == 2 else None

    def update(self, truth, classes, probability=None):
        """Add a class map and, for two classes, class 1's probability."""
        self.confusion.update(truth, classes)
        if self.max_f and probability is not None:
            self.max_f.update(truth, probability)

    def result(self, names, label_ids=None):
        """Return the metrics dict: pixels, pixel accuracy, IoU per class and mean; for
        two classes precision, recall, F1 and MaxF; the 19-class Cityscapes mean where
        `label_ids` are given."""
        confusion = self.confusion
        result = {'pixels': int(confusion.matrix.sum()),
                  'pixel_accuracy': confusion.pixel_accuracy(), 'mean_iou': confusion.mean_iou(),
                  'iou': dict(zip(names, confusion.iou().tolist()))}
        if self.max_f:
            result.update(metrics.binary_scores(confusion))
            if self.max_f.positives.sum() + self.max_f.negatives.sum():
                best = self.max_f.result()
                result.update(max_f=best['max_f'], max_f_threshold=best['threshold'])
        if label_ids is not None:
            result['cityscapes19_mean_iou'] = class_confusion_scores(confusion.matrix,
                                                                     label_ids)[1]
        return result


def score_generator(predictor, source, batch_size, name):
    """Return {'training_size': metrics} from the source's validation generator, whose
    images are at the training size already (preparing them resizes nothing; test-time
    variants, if any, are made from them)."""
    scores = Scores(source.num_classes)
    with tqdm(total=source.num_validation, unit='img', desc='evaluating') as bar:
        for images, labels in sources.split_batches(source, name, 'validation', batch_size):
            outputs = predictor.network_outputs([predictor.prepare(image) for image in images])
            for truth, (_, probabilities, classes, *_) in zip(labels_to_class_map(labels),
                                                              outputs):
                scores.update(truth, classes, probabilities[..., min(1, source.num_classes - 1)])
            bar.update(len(images))
    return {'training_size': scores.result(sources.class_names(source),
                                           sources.optional(source, 'label_ids'))}


def read_validation_pair(source, predictor, official, pair):
    """Return (pair, prepared photo, class map, official ground truth) of a validation pair."""
    image_path, label_path = pair
    image = read_image(image_path)
    official_truth, decoded = official.truth_and_label(label_path) if official else (None, None)
    truth = (source.read_label(label_path) if decoded is None
             else source.read_label(label_path, image=decoded))
    if truth.shape != image.shape[:2]:
        raise UserError(f'{label_path} is {truth.shape[1]}x{truth.shape[0]} but its photo is '
                        f'{image.shape[1]}x{image.shape[0]}')
    return pair, predictor.prepare(image), truth, official_truth


def score_files(predictor, source, batch_size, image_size, input_scale):
    """Return the full-resolution, training-size (at the default input scale) and
    official scores, reading the validation files (in a thread) at their own size.

    While the network runs on one batch, another thread finishes and scores the one before
    (resizing probabilities, argmax, counting), so the two overlap as painting does.
    """
    benchmark = source_benchmark(source, sources.optional)
    official = OfficialScore(benchmark) if benchmark else None
    full, small = Scores(source.num_classes), Scores(source.num_classes)

    def score_batch(batch, outputs):
        """Finish the predictions of one batch and add them to every score."""
        for (pair, _, truth, official_truth), output in zip(batch, outputs):
            prediction = predictor.finish(*output)
            full.update(truth, prediction.classes, prediction.probability)
            if input_scale is None:
                small.update(resizing.resize_nearest(truth, image_size),
                             prediction.network_classes, prediction.network_probability)
            if official:
                official.update(pair[1], official_truth, prediction)
    reads = (read_validation_pair(source, predictor, official, pair)
             for pair in source.valid_files)
    with tqdm(total=source.num_validation, unit='img', desc='evaluating') as bar, \
            ThreadPoolExecutor(1) as scorer:
        pending = None
        for batch in batched(background(reads), batch_size):
            outputs = predictor.network_outputs([item[1] for item in batch])
            if pending:
                pending.result()          # one batch in flight at most: bounded memory
            pending = scorer.submit(score_batch, batch, outputs)
            bar.update(len(batch))
        if pending:
            pending.result()
    names, label_ids = sources.class_names(source), sources.optional(source, 'label_ids')
    result = {'full_resolution': full.result(names, label_ids)}
    if input_scale is None:
        result['training_size'] = small.result(names, label_ids)
    if official:
        report_missing_truth(official)
        if official.result() is not None:
            result[official.key] = official.result()
    return result


def report_missing_truth(official):
    """Print one `[i]` line when the official score cannot be given for want of files."""
    if official.missing:
        print(f'[i] No official {official.benchmark.name} score: '
              f'{len(official.missing)} validation label(s) lack the ground truth it needs '
              f'(e.g. {os.path.basename(official.missing[0])}; Cityscapes needs the '
              '*_gtFine_labelIds.png files)')


def json_ready(value):
    """Return `value` with NaN turned into None, which JSON can hold."""
    if isinstance(value, dict):
        return {k: json_ready(v) for k, v in value.items()}
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def format_value(value):
    """Return a score for printing: 4 decimals, '-' for none."""
    return '-' if value is None or np.isnan(value) else f'{value:.4f}'


def print_scores(title, scores):
    """Print one block of project scores as [i] lines."""
    print(f'[i] {title}: pixel accuracy {format_value(scores["pixel_accuracy"])}, mean IoU '
          f'{format_value(scores["mean_iou"])}')
    for name, value in scores['iou'].items():
        print(f'[i]   {name:<20s} {format_value(value)}')
    if 'precision' in scores:
        print(f'[i]   precision {format_value(scores["precision"])}, recall '
              f'{format_value(scores["recall"])}, F1 {format_value(scores["f1"])}, MaxF '
              f'{format_value(scores.get("max_f"))} at threshold '
              f'{format_value(scores.get("max_f_threshold"))}')
    if 'cityscapes19_mean_iou' in scores:
        print(f'[i]   mean IoU over the 19 Cityscapes benchmark classes at this size (not the '
              f'official score): {format_value(scores["cityscapes19_mean_iou"])}')


def inference_costs(predictor):
    """Return how the predictor ran each photo and what it cost (network runs per photo),
    for metrics.json; an exported model runs each photo once."""
    options = getattr(predictor, 'options', None)
    runs = getattr(predictor, 'network_runs', 0) / max(getattr(predictor, 'photos', 0), 1)
    return {'inference': options.to_json() if options else None,
            'network_runs_per_photo': runs if options else 1.0}


def print_metrics(result, image_size):
    """Print every score as [i] lines, each saying which it is."""
    inference = result.get('inference')
    how = (f'{InferenceOptions.from_json(inference).describe()}, ' if inference else '')
    print(f'[i] {result["images"]} validation images ({how}'
          f'{result["network_runs_per_photo"]:.3g} network runs per photo)')
    if 'full_resolution' in result:
        print_scores("This project's score at each photo's own size", result['full_resolution'])
    if 'training_size' in result:
        print_scores(f"This project's score at the training size {image_size[0]}x"
                     f"{image_size[1]} (not a benchmark's)", result['training_size'])
    if 'cityscapes_official' in result:
        official = result['cityscapes_official']
        print('[i] Cityscapes official score (as cityscapesscripts\' '
              'evalPixelLevelSemanticLabeling, at full resolution): IoU class '
              f'{format_value(official["iou_class"])}, iIoU class '
              f'{format_value(official["iiou_class"])}, IoU category '
              f'{format_value(official["iou_category"])}, iIoU category '
              f'{format_value(official["iiou_category"])}')
    if 'camvid' in result:
        camvid = result['camvid']
        print('[i] CamVid score as the papers report it (11 classes, void left out, at the '
              f'labels\' size): global accuracy {format_value(camvid["global_accuracy"])}, '
              f'class-average accuracy {format_value(camvid["class_average_accuracy"])}, '
              f'mean IoU {format_value(camvid["mean_iou"])}')
        print('[i]   IoU ' + ', '.join(f'{name} {format_value(value)}'
                                       for name, value in camvid['per_class_iou'].items()))
    for category, scores in result.get('kitti_official', {}).items():
        print(f'[i] KITTI Road official score (as the devkit\'s evaluateRoad, perspective '
              f'images) {category}: MaxF {format_value(scores["max_f"])}, AP '
              f'{format_value(scores["ap"])}, precision {format_value(scores["precision"])}, '
              f'recall {format_value(scores["recall"])}, FPR {format_value(scores["fpr"])}, '
              f'FNR {format_value(scores["fnr"])} at threshold '
              f'{format_value(scores["threshold"])}')


def evaluate(predictor_for, settings, model_label, options):
    """Score a model, print the metrics and write metrics.json into `options.output_dir`;
    return them.

    `predictor_for(probability_of)` returns the prediction.Predictor (a checkpoint) or
    exported_prediction.ExportedPredictor (an exported model) to score; `model_label`,
    {'checkpoint': name, 'model': exported file or None}, goes into the metrics;
    `options` is an EvaluationOptions.
    """
    source = load_validation_source(settings, options)
    name = options.source_name(settings)
    # For two classes, class 1's probability gives MaxF (and KITTI's confidence).
    predictor = predictor_for(1 if source.num_classes == 2 else None)
    if (sources.optional(source, 'valid_files') is None
            or sources.optional(source, 'read_label') is None):
        if options.input_scale is not None:
            raise UserError(f'{name} gives no label files, so it is scored at the training '
                            'size only: --input-scale does not apply')
        result = score_generator(predictor, source, options.batch_size, name)
    else:
        result = score_files(predictor, source, options.batch_size, settings.image_size,
                             options.input_scale)
    result.update(images=int(source.num_validation), input_scale=options.input_scale,
                  split=options.split, **model_label, **inference_costs(predictor))
    print_metrics(result, settings.image_size)
    make_directory(options.output_dir, 'metrics folder')
    path = os.path.join(options.output_dir, METRICS_FILE)
    write_json(path, json_ready(result))
    print(f'[i] Metrics written to {path}')
    return result
