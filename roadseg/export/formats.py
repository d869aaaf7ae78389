"""Exporting a run in one of three formats, with the quantisations each supports
(infer.py --export DIR --export-format F --quantize Q):

* savedmodel (savedmodel.py): float32, any input size, `--input-scale` honoured;
* onnx (to_onnx.py): float32 or int8, for onnxruntime and OpenCV's dnn module;
* tflite (to_tflite.py): float32, float16 weights or full int8, for LiteRT.

ONNX and TFLite models take BGR 0..255 images at one fixed input size (the run's image
size unless told otherwise) and give the probabilities and the class map at that size; DIR
holds `model.onnx` or `model.tflite` and `model.json` (sidecar.py), which says so.
int8 is calibrated on the run's own training photos (calibration.py). The optional packages
(requirements-export.txt) are imported only here, and only for the format asked for.

The export is written into a temporary folder beside DIR and renamed, so a failed export
leaves nothing behind, and nothing is written over: DIR must be new or empty.
"""
import importlib.util
import os

from roadseg.core.errors import UserError
from roadseg.export import calibration, inference_graph, savedmodel, sidecar

FORMATS = {'savedmodel': ('none',), 'onnx': ('none', 'int8'),
           'tflite': ('none', 'float16', 'int8')}
QUANTIZATIONS = ('none', 'float16', 'int8')
PACKAGES = {'savedmodel': (), 'onnx': ('tf2onnx', 'onnx', 'onnxruntime'), 'tflite': ()}
MODEL_NAME = 'model'
FORMAT_NAMES = {'savedmodel': 'SavedModel', 'onnx': 'ONNX', 'tflite': 'TFLite'}


def supported_combinations():
    """Return the supported format/quantisation pairs as text, e.g. 'onnx: none, int8'."""
    return '; '.join(f'{kind}: {", ".join(quantizations)}'
                     for kind, quantizations in FORMATS.items())


def check_request(export_format, quantize='none', input_scale=None):
    """Raise `UserError` for a format, a quantisation or a pairing (with an input scale)
    that no export supports, or an optional package the format needs that is missing."""
    if export_format not in FORMATS:
        raise UserError(f'unknown export format {export_format!r}: use '
                        f'{", ".join(FORMATS)}')
    if quantize not in FORMATS[export_format]:
        raise UserError(f'--export-format {export_format} does not support --quantize '
                        f'{quantize}; supported: {supported_combinations()}')
    if input_scale is not None and export_format != 'savedmodel':
        raise UserError(f'--input-scale applies to the savedmodel export: {export_format} '
                        'models take one fixed input size (the run\'s image size)')
    missing = [name for name in PACKAGES[export_format]
               if importlib.util.find_spec(name) is None]
    if missing:
        raise UserError(f'the {export_format} export needs {", ".join(missing)}, which '
                        f'{"is" if len(missing) == 1 else "are"} not installed: pip install '
                        '-r requirements-export.txt')


def model_path(export_dir, export_format):
    """Return the model file of an ONNX or TFLite export in `export_dir`."""
    return os.path.join(export_dir, f'{MODEL_NAME}.{export_format}')


def export_model(checkpoint, settings, export_dir, export_format='savedmodel',
                 quantize='none', calibration_images=calibration.DEFAULT_COUNT,
                 data_dir=None, input_scale=None, input_size=None):
    """Export `checkpoint` of the run with `settings` to the folder `export_dir` as
    `export_format` quantised as `quantize`; return the model's path (the folder for a
    SavedModel).

    int8 is calibrated on `calibration_images` training photos of the run's data (or of
    `data_dir`). `input_size` (width, height) fixes the ONNX and TFLite input, the run's
    image size by default; `input_scale` applies to the SavedModel only. Unsupported
    requests, missing packages and a folder in the way are each one `UserError` line before
    anything is written; a failed conversion or write is one too, and leaves nothing.
    """
    check_request(export_format, quantize, input_scale)
    savedmodel.check_target(export_dir)
    if export_format == 'savedmodel':
        savedmodel.export_saved_model(checkpoint, settings, export_dir, input_scale)
        return export_dir
    frozen = inference_graph.frozen_inference_graph(
        checkpoint, settings, input_size, batch=None if export_format == 'onnx' else 1)
    photos = (calibration.calibration_images(settings, calibration_images, frozen.input_size,
                                             data_dir) if quantize == 'int8' else None)
    with savedmodel.export_folder(export_dir) as temporary:
        os.makedirs(temporary)
        extra = write_format(frozen, model_path(temporary, export_format), export_format,
                             quantize, photos)
        values = sidecar.sidecar(settings, checkpoint, export_format, quantize, frozen,
                                 extra)
        sidecar.write_sidecar(model_path(temporary, export_format), values)
    path = model_path(export_dir, export_format)
    width, height = frozen.input_size
    print(f'[i] {FORMAT_NAMES[export_format]} model ({quantize_name(quantize)}) written to '
          f'{path}, described in {sidecar.sidecar_path(path)}: images '
          f'[{frozen.batch or "B"}, {height}, {width}, 3] BGR 0..255 -> probabilities, '
          f'classes at {width}x{height}')
    return path


def write_format(frozen, path, export_format, quantize, photos):
    """Write the model file of an ONNX or TFLite export; return the sidecar's entries of
    that format."""
    if export_format == 'onnx':
        from roadseg.export import to_onnx  # noqa: PLC0415 - needs the optional packages
        return to_onnx.write_onnx(frozen, path, quantize, photos)
    from roadseg.export import to_tflite  # noqa: PLC0415 - keeps the converter out of imports
    return to_tflite.write_tflite(frozen, path, quantize, photos)


def quantize_name(quantize):
    """Return how a quantisation reads in a message."""
    return {'none': 'float32', 'float16': 'float16 weights', 'int8': 'int8'}[quantize]
