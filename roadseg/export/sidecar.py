"""Writing the JSON file beside an exported ONNX or TFLite model: what a program needs to
use it (exported_model.py reads it).

`model.onnx` (or `model.tflite`) has `model.json` beside it, which says what goes in (BGR
0..255 at a fixed input size, the mean subtracted inside the model), what comes out, the
classes with their names and colours, how photos of other sizes are resized, and where the
model came from. The SavedModel export needs none: its signature says as much.
"""
import os

from roadseg.core.files import write_json
from roadseg.export.exported_model import CLASSES, INPUT, PROBABILITIES, sidecar_path
from roadseg.model.vgg16 import VGG_MEAN_BGR

VERSION = 1
RESIZING = ('photos of another size: resized to input_size by area averaging when shrinking '
            'and bilinearly (half-pixel centres) when enlarging; the probabilities are '
            'resized back to the photo\'s size bilinearly (half-pixel centres) and the class '
            'map is their argmax there, as infer.py does')


def sidecar(settings, checkpoint, export_format, quantize, frozen, extra=None):
    """Return the sidecar dict of a model exported from `checkpoint` of the run with
    `settings`, as `frozen` (export_graph.FrozenGraph) describes its graph; `extra`, a
    dict of format-specific entries (opset, calibration), is added as it is."""
    width, height = frozen.input_size
    batch, classes = frozen.batch, frozen.num_classes
    class_names = settings.class_names or [f'class {c}' for c in range(classes)]
    values = {
        'version': VERSION,
        'format': export_format,
        'quantize': quantize,
        'input_size': [width, height],
        'input': {'name': INPUT, 'shape': [batch, height, width, 3], 'dtype': 'float32',
                  'channel_order': 'BGR', 'value_range': [0, 255],
                  'mean': 'subtracted inside the model',
                  'mean_bgr': [float(v) for v in VGG_MEAN_BGR]},
        'outputs': [
            {'name': PROBABILITIES, 'shape': [batch, height, width, classes],
             'dtype': 'float32', 'meaning': 'class probabilities (softmax) at input_size'},
            {'name': CLASSES, 'shape': [batch, height, width], 'dtype': 'int32',
             'meaning': 'class map at input_size: the most probable class'}],
        'num_classes': classes,
        'class_names': list(class_names),
        'label_colors_bgr': {str(k): [int(c) for c in v]
                             for k, v in sorted(settings.label_colors.items())},
        'resizing': RESIZING,
        'source_run': {'name': os.path.basename(os.path.normpath(settings.name or '')),
                       'checkpoint': os.path.basename(checkpoint),
                       'data_source': settings.data_source,
                       'image_size': list(settings.image_size or [])},
    }
    values.update(extra or {})
    return values


def write_sidecar(model_path, values):
    """Write the sidecar of `model_path` atomically; return its path."""
    path = sidecar_path(model_path)
    write_json(path, values)
    return path
