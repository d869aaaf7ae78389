"""Running an exported ONNX or TFLite model (formats.py) with its own runtime, without
TensorFlow: onnxruntime (or OpenCV's dnn module) for `.onnx`, LiteRT (or TensorFlow's
tf.lite, where LiteRT is not installed) for `.tflite`.

An exported model takes BGR 0..255 images at one fixed input size and gives the class
probabilities and the class map at that size, as the network gives them to infer.py before
it resizes them to the photo's size. `ExportedModel.predict` runs it on such images;
`ExportedModel.predict_photo` also does the resizing of infer.py for a photo of any size,
with OpenCV instead of TensorFlow's ops. The JSON beside the model (sidecar.py writes
it) says the input size, the classes and their colours; this module reads it.
"""
import json
import os

import cv2
import numpy as np

from roadseg.core.errors import UserError
from roadseg.data import resizing

# The names of the exported model's input and outputs, in every format.
INPUT = 'images'              # float32 [B, H, W, 3], BGR 0..255, at the fixed input size
PROBABILITIES = 'probabilities'   # float32 [B, H, W, C]
CLASSES = 'classes'           # int32 [B, H, W]
SUFFIXES = {'.onnx': 'onnx', '.tflite': 'tflite'}
RUNTIMES = {'onnx': ('onnxruntime', 'opencv'), 'tflite': ('litert', 'tf.lite')}
INSTALL_HINT = 'pip install -r requirements-export.txt'
# A FlatBuffer's file identifier, bytes 4 to 8 of every TFLite model; ONNX (protobuf) has none.
TFLITE_IDENTIFIER = b'TFL3'


def sidecar_path(model_path):
    """Return the JSON path beside a model file: its name with the extension `.json`."""
    return os.path.splitext(model_path)[0] + '.json'


def read_sidecar(model_path):
    """Return the sidecar dict of `model_path`; a missing or damaged one is a `UserError`."""
    path = sidecar_path(model_path)
    try:
        with open(path) as handle:
            values = json.load(handle)
    except (OSError, ValueError) as error:
        raise UserError(f'cannot read {path}, the description of {model_path} that the '
                        f'export writes beside it ({error})') from None
    required = ('format', 'input_size', 'num_classes', 'input', 'outputs')
    missing = [key for key in required if not isinstance(values, dict) or key not in values]
    if missing:
        raise UserError(f'{path} lacks {", ".join(missing)}: is it the JSON an export wrote?')
    return values


def model_format(model_path):
    """Return 'onnx' or 'tflite' from a model file's extension; `UserError` otherwise, and
    for a file whose first bytes say it is the other format."""
    kind = SUFFIXES.get(os.path.splitext(model_path)[1].lower())
    if kind is None:
        raise UserError(f'{model_path} is neither an .onnx nor a .tflite file')
    if not os.path.isfile(model_path):
        raise UserError(f'no model file {model_path}')
    try:
        with open(model_path, 'rb') as handle:
            head = handle.read(8)
    except OSError as error:
        raise UserError(f'cannot read {model_path}: {error.strerror}') from None
    is_tflite = head[4:8] == TFLITE_IDENTIFIER
    if kind == 'onnx' and is_tflite:
        raise UserError(f'{model_path} is a TFLite model, not ONNX: give it the extension '
                        '.tflite')
    if kind == 'tflite' and not is_tflite:
        raise UserError(f'{model_path} is not a TFLite model (no {TFLITE_IDENTIFIER.decode()} '
                        'identifier): an ONNX model needs the extension .onnx; a download may '
                        'be cut short')
    return kind


def first_line(error):
    """Return the first non-empty line of an exception's message (runtimes' are long)."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__


class ExportedModel:
    """An exported model and its sidecar, ready to run.

    `runtime`: for ONNX 'onnxruntime' (default) or 'opencv' (cv2.dnn), for TFLite 'litert'
    (default; TensorFlow's tf.lite where ai-edge-litert is missing) or 'tf.lite'. After
    loading: `path`, `input_size` (width, height), `num_classes`, `class_names`, `label_colors`
    ({class: (B, G, R)}), `format`, `quantize` and `info` (the whole sidecar).
    """

    def __init__(self, model_path, runtime=None):
        self.path = model_path
        self.format = model_format(model_path)
        self.info = read_sidecar(model_path)
        if self.info['format'] != self.format:
            raise UserError(f'{sidecar_path(model_path)} describes a {self.info["format"]} '
                            f'model, not {model_path}')
        self.input_size = tuple(int(v) for v in self.info['input_size'])
        self.num_classes = int(self.info['num_classes'])
        self.class_names = list(self.info.get('class_names') or [])
        self.label_colors = {int(k): tuple(v)
                             for k, v in self.info.get('label_colors_bgr', {}).items()}
        self.quantize = self.info.get('quantize', 'none')
        self.batch = self.info['input']['shape'][0]     # None: any number of images
        runtime = runtime or RUNTIMES[self.format][0]
        if runtime not in RUNTIMES[self.format]:
            raise UserError(f'{self.format} models run with {" or ".join(RUNTIMES[self.format])}'
                            f', not {runtime}')
        self.runtime = runtime
        runner = {'onnxruntime': onnxruntime_runner, 'opencv': opencv_runner,
                  'litert': tflite_runner, 'tf.lite': tflite_runner}[runtime]
        try:
            self._run = runner(model_path, runtime)
        except UserError:
            raise
        except Exception as error:  # the runtimes' parsers raise their own types
            raise UserError(f'{model_path} is not a {self.format} model that {runtime} can '
                            f'load: {first_line(error)}') from None
        self.check_against_sidecar()

    def check_against_sidecar(self):
        """Run the model once on a black image of the sidecar's input size; `UserError` when
        it does not take that size or gives another number of classes than the sidecar."""
        width, height = self.input_size
        try:
            probabilities, classes = self._run(np.zeros((1, height, width, 3), np.float32))
        except UserError:
            raise
        except Exception as error:  # the runtimes raise their own types on a shape mismatch
            raise UserError(f'{self.path} does not run on the {width}x{height} images that '
                            f'{sidecar_path(self.path)} says it takes: {first_line(error)}'
                            ) from None
        expected = (1, height, width, self.num_classes)
        if tuple(np.shape(probabilities)) != expected or np.shape(classes)[:3] != expected[:3]:
            raise UserError(f'{self.path} gives probabilities of shape '
                            f'{list(np.shape(probabilities))}; {sidecar_path(self.path)} says '
                            f'{list(expected)} ({self.num_classes} classes at {width}x{height})'
                            ': the JSON belongs to another model')

    def predict(self, images):
        """Return (probabilities float32 [N, H, W, C], classes int32 [N, H, W]) of images
        [N, H, W, 3] (uint8 or float, BGR 0..255) at the model's input size."""
        images = np.asarray(images, np.float32)
        width, height = self.input_size
        if images.ndim != 4 or images.shape[1:] != (height, width, 3):
            raise UserError(f'the model takes images [N, {height}, {width}, 3], not '
                            f'{list(images.shape)}: resize them to {width}x{height} first '
                            '(or use predict_photo)')
        step = self.batch or max(1, len(images))
        outputs = [self._run(images[start:start + step])
                   for start in range(0, len(images), step)]
        probabilities = np.concatenate([p for p, _ in outputs]).astype(np.float32)
        classes = np.concatenate([c for _, c in outputs]).astype(np.int32)
        return probabilities, classes

    def predict_photo(self, photo):
        """Return (probabilities float32 [H, W, C], class map int32 [H, W]) of one photo
        (uint8 or float [H, W, 3], BGR) at its own size, as infer.py computes them: the
        photo resized to the input size, the probabilities resized back bilinearly (half-
        pixel centres), the class map their argmax (at the input size too, as infer.py)."""
        height, width = photo.shape[:2]
        network_input = resizing.resize_photo(np.asarray(photo, np.float32), self.input_size)
        return to_photo_size(self.predict(network_input[None])[0][0], (width, height))


def to_photo_size(probabilities, size):
    """Return (probabilities [H, W, C], class map int32 [H, W]) at size (width, height):
    the probabilities [h, w, C] resized bilinearly, and their argmax (resizing_tf's
    `to_photo_size` in OpenCV and numpy)."""
    if (probabilities.shape[1], probabilities.shape[0]) != tuple(size):
        probabilities = resize_probabilities(probabilities, size)
    return probabilities, np.argmax(probabilities, axis=-1).astype(np.int32)


def resize_probabilities(probabilities, size):
    """Return probabilities [h, w, C] resized bilinearly (half-pixel centres, as TF's
    `tf.image.resize`) to size (width, height); OpenCV's resize takes at most 512 channels
    at a time, so wider maps go in parts."""
    parts = [cv2.resize(probabilities[..., start:start + 512], size,
                        interpolation=cv2.INTER_LINEAR)
             for start in range(0, probabilities.shape[-1], 512)]
    parts = [part[..., None] if part.ndim == 2 else part for part in parts]
    return np.concatenate(parts, axis=-1)


def missing_runtime(what, package):
    """Return the `UserError` for a runtime that is not installed."""
    return UserError(f'running {what} needs {package}, which is not installed: '
                     f'{INSTALL_HINT}')


def onnxruntime_runner(model_path, _runtime):
    """Return run(images) -> (probabilities, classes) of an ONNX model on onnxruntime's CPU
    provider."""
    try:
        import onnxruntime  # noqa: PLC0415 - optional: only for exported models
    except ImportError:
        raise missing_runtime(model_path, 'onnxruntime') from None
    session = onnxruntime.InferenceSession(model_path, providers=['CPUExecutionProvider'])

    def run(images):
        """Run the model on one batch."""
        return session.run([PROBABILITIES, CLASSES], {INPUT: images})
    return run


def opencv_runner(model_path, _runtime):
    """Return run(images) -> (probabilities, classes) of an ONNX model in OpenCV's dnn
    module (one image at a time: its networks take a fixed batch)."""
    try:
        net = cv2.dnn.readNetFromONNX(model_path)
    except cv2.error as error:
        raise UserError(f'OpenCV cannot load {model_path}: {str(error).strip()}') from None

    def run(images):
        """Run the model on each image of a batch."""
        outputs = []
        for image in images:
            net.setInput(image[None])
            outputs.append(net.forward([PROBABILITIES, CLASSES]))
        return (np.concatenate([p for p, _ in outputs]),
                np.concatenate([c.reshape(p.shape[:3]) for p, c in outputs]))
    return run


def tflite_interpreter(model_path, runtime):
    """Return a TFLite interpreter of `model_path`: LiteRT's, or TensorFlow's for
    'tf.lite' or where LiteRT is not installed."""
    if runtime == 'litert':
        try:
            from ai_edge_litert.interpreter import Interpreter  # noqa: PLC0415
            return Interpreter(model_path=model_path)
        except ImportError:
            pass
    try:
        import tensorflow as tf  # noqa: PLC0415 - only without LiteRT
    except ImportError:
        raise missing_runtime(model_path, 'ai-edge-litert (or TensorFlow)') from None
    return tf.lite.Interpreter(model_path=model_path)


def tflite_runner(model_path, runtime):
    """Return run(images) -> (probabilities, classes) of a TFLite model (one image at a
    time: the model's batch is 1)."""
    interpreter = tflite_interpreter(model_path, runtime)
    interpreter.allocate_tensors()
    image_input = interpreter.get_input_details()[0]['index']
    outputs = {detail['name']: detail['index'] for detail in interpreter.get_output_details()}
    missing = [name for name in (PROBABILITIES, CLASSES) if name not in outputs]
    if missing:
        raise UserError(f'{model_path} has no output {", ".join(missing)}: is it an export '
                        'of this project?')

    def run(images):
        """Run the model on each image of a batch."""
        probabilities, classes = [], []
        for image in images:
            interpreter.set_tensor(image_input, image[None])
            interpreter.invoke()
            probabilities.append(interpreter.get_tensor(outputs[PROBABILITIES]))
            classes.append(interpreter.get_tensor(outputs[CLASSES]))
        return np.concatenate(probabilities), np.concatenate(classes)
    return run
