"""Scoring a trained model on its data source's validation split (infer.py --evaluate)."""
import math
import os

import numpy as np
from tqdm import tqdm

import metrics
import sources
from errors import UserError
from files import make_directory, write_json
from labels import labels_to_class_map

METRICS_FILE = 'metrics.json'


def load_validation_source(settings, data_source=None, data_dir=None):
    """Return the run's data source (or `data_source`), loaded with the run's split."""
    name = data_source or settings.data_source
    directory = data_dir or settings.data_dir
    source = sources.load_source_data(name, directory, settings.valid_fraction, settings.seed)
    if source.num_classes != settings.num_classes:
        raise UserError(f'{name} has {source.num_classes} classes, the run was trained '
                        f'for {settings.num_classes}')
    if not source.num_validation:
        raise UserError(f'{name} has no validation samples in {directory} to evaluate')
    return source


def score(session, model, source, batch_size, name='the data source'):
    """Return the metrics dict of the model on the source's validation split."""
    confusion = metrics.ConfusionMatrix(source.num_classes)
    max_f = metrics.MaxF() if source.num_classes == 2 else None
    with tqdm(total=source.num_validation, unit='img', desc='evaluating') as bar:
        for images, labels in sources.split_batches(source, name, 'validation', batch_size):
            softmax, classes = session.run([model.softmax, model.classes],
                                           {model.image_input: images, model.keep_prob: 1.0})
            truth = labels_to_class_map(labels)
            confusion.update(truth, classes)
            if max_f:
                max_f.update(truth, softmax[..., 1])
            bar.update(len(images))
    names = sources.class_names(source)
    result = {'images': int(source.num_validation), 'pixels': int(confusion.matrix.sum()),
              'pixel_accuracy': confusion.pixel_accuracy(), 'mean_iou': confusion.mean_iou(),
              'iou': dict(zip(names, confusion.iou().tolist()))}
    if max_f:
        result.update(metrics.binary_scores(confusion))
        best = max_f.result()
        result.update(max_f=best['max_f'], max_f_threshold=best['threshold'])
    label_ids = sources.optional(source, 'label_ids')
    if label_ids is not None:
        by_id, mean = metrics.cityscapes_benchmark(confusion, label_ids)
        id_names = dict(zip((int(i) for i in label_ids), names))
        result['cityscapes'] = {'mean_iou': mean,
                                'iou': {id_names[i]: v for i, v in by_id.items()}}
    return result


def json_ready(value):
    """Return `value` with NaN turned into None, which JSON can hold."""
    if isinstance(value, dict):
        return {k: json_ready(v) for k, v in value.items()}
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def print_metrics(result):
    """Print the metrics as [i] lines."""
    print(f'[i] {result["images"]} images: pixel accuracy {result["pixel_accuracy"]:.4f}, '
          f'mean IoU {result["mean_iou"]:.4f}')
    for name, value in result['iou'].items():
        print(f'[i]   {name:<20s} {"-" if np.isnan(value) else f"{value:.4f}"}')
    if 'max_f' in result:
        print(f'[i] precision {result["precision"]:.4f}, recall {result["recall"]:.4f}, F1 '
              f'{result["f1"]:.4f}, MaxF {result["max_f"]:.4f} at threshold '
              f'{result["max_f_threshold"]:.4f}')
    if 'cityscapes' in result:
        print(f'[i] Cityscapes benchmark (19 classes) mean IoU '
              f'{result["cityscapes"]["mean_iou"]:.4f}')


def evaluate(session, model, settings, checkpoint, output_dir, batch_size, data_source=None,
             data_dir=None):
    """Score the restored model, print the metrics and write `output_dir`/metrics.json;
    return them. `data_source` and `data_dir` replace the run's own."""
    source = load_validation_source(settings, data_source, data_dir)
    result = score(session, model, source, batch_size, data_source or settings.data_source)
    result['checkpoint'] = os.path.basename(checkpoint)
    print_metrics(result)
    make_directory(output_dir, 'metrics folder')
    path = os.path.join(output_dir, METRICS_FILE)
    write_json(path, json_ready(result))
    print(f'[i] Metrics written to {path}')
    return result
