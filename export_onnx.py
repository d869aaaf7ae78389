"""The ONNX export: tf2onnx converts the frozen inference graph (export_graph.py); int8 is
onnxruntime's static quantisation, calibrated on the run's training photos.

Opset 13: the lowest that quantises weights per output channel (QuantizeLinear's `axis`),
and one that onnxruntime and OpenCV's dnn module (cv2.dnn.readNetFromONNX) both load. The
graph holds only Conv, ConvTranspose, MaxPool, Relu, Sub, Mul, Sum, Softmax, ArgMax, Cast
and the two Transposes between TensorFlow's NHWC and ONNX's NCHW: no dropout, no
ExtractImagePatches. The batch stays free, so onnxruntime runs several images at once.

int8 (`quantize_static`): weights int8 per output channel, activations int8 from their
min/max over the calibration photos, in the QDQ format (QuantizeLinear/DequantizeLinear
pairs around the float ops), which onnxruntime fuses into its int8 kernels when it loads the
model and which other runtimes read too; onnxruntime's documentation recommends this
S8S8-QDQ pairing first on CPUs. Softmax and ArgMax stay float, so the probabilities keep
their resolution; every convolution, transposed ones included, runs in int8.
"""
import os
import shutil
import tempfile

import numpy as np

import runs
from errors import UserError
from exported_model import CLASSES, INPUT, PROBABILITIES

OPSET = 13
QUANTIZE = ('none', 'int8')
CALIBRATION_BATCH = 8
KEPT_FLOAT = ('Softmax', 'ArgMax')   # op types left out of int8


def convert(frozen):
    """Return the ONNX ModelProto of a `FrozenGraph`, with the input and outputs named as
    in TensorFlow without the `:0`."""
    import tf2onnx   # noqa: PLC0415 - optional: only for ONNX exports
    try:
        model, _ = tf2onnx.convert.from_graph_def(
            frozen.graph_def, input_names=[f'{INPUT}:0'],
            output_names=[f'{PROBABILITIES}:0', f'{CLASSES}:0'], opset=OPSET)
    except Exception as error:   # noqa: BLE001 - tf2onnx raises many kinds; say which
        raise UserError(f'tf2onnx {tf2onnx.__version__} cannot convert the inference '
                        f'graph: {type(error).__name__}: {runs.first_line(error)}') from None
    rename(model, {f'{name}:0': name for name in (INPUT, PROBABILITIES, CLASSES)})
    return model


def rename(model, names):
    """Rename tensors of an ONNX model in place ({old: new}), wherever they appear."""
    graph = model.graph
    for node in graph.node:
        node.input[:] = [names.get(name, name) for name in node.input]
        node.output[:] = [names.get(name, name) for name in node.output]
    for value in list(graph.input) + list(graph.output) + list(graph.value_info):
        value.name = names.get(value.name, value.name)


class CalibrationReader:
    """onnxruntime's CalibrationDataReader over an array of photos, a few at a time."""

    def __init__(self, images):
        self.batches = iter([images[start:start + CALIBRATION_BATCH]
                             for start in range(0, len(images), CALIBRATION_BATCH)])

    def get_next(self):
        """Return the next input feed, or None at the end."""
        batch = next(self.batches, None)
        return None if batch is None else {INPUT: np.ascontiguousarray(batch, np.float32)}

    def rewind(self):
        """Not needed by the MinMax calibration, which reads the data once."""


def quantize_int8(model_path, output_path, images):
    """Write the int8 (QDQ, per-channel weights) quantisation of the float ONNX model at
    `model_path` to `output_path`, calibrated on `images` [N, H, W, 3]."""
    import onnx   # noqa: PLC0415 - optional: only for ONNX exports
    from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod,  # noqa
                                          QuantFormat, QuantType, quantize_static)
    from onnxruntime.quantization.shape_inference import quant_pre_process   # noqa

    class Reader(CalibrationReader, CalibrationDataReader):
        """The reader as onnxruntime's base class wants it."""

    work = tempfile.mkdtemp(prefix='onnx-int8-', dir=os.path.dirname(output_path) or '.')
    try:
        # Shape inference and onnxruntime's graph clean-up first, as its quantiser asks;
        # the symbolic shape pass (which needs sympy) has nothing to do on fixed shapes.
        prepared = os.path.join(work, 'prepared.onnx')
        quant_pre_process(model_path, prepared, skip_symbolic_shape=True)
        excluded = [node.name for node in onnx.load(prepared).graph.node
                    if node.op_type in KEPT_FLOAT]
        quantize_static(prepared, output_path, Reader(images),
                        quant_format=QuantFormat.QDQ, per_channel=True,
                        activation_type=QuantType.QInt8, weight_type=QuantType.QInt8,
                        calibrate_method=CalibrationMethod.MinMax, nodes_to_exclude=excluded)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def write_onnx(frozen, path, quantize='none', calibration=None):
    """Write the ONNX model of a `FrozenGraph` to `path` (a new file), quantised as asked
    (`calibration`: the photos for int8); return the sidecar's ONNX-specific entries."""
    import onnx   # noqa: PLC0415 - optional: only for ONNX exports
    import tf2onnx   # noqa: PLC0415
    model = convert(frozen)
    extra = {'opset': OPSET, 'converter': f'tf2onnx {tf2onnx.__version__}'}
    if quantize == 'none':
        onnx.save(model, path)
        return extra
    float_path = f'{path}.float.onnx'
    try:
        onnx.save(model, float_path)
        quantize_int8(float_path, path, calibration)
    finally:
        if os.path.exists(float_path):
            os.remove(float_path)
    import onnxruntime   # noqa: PLC0415
    extra['quantization'] = {
        'tool': f'onnxruntime {onnxruntime.__version__} quantize_static',
        'format': 'QDQ', 'weights': 'int8, per output channel', 'activations': 'int8',
        'calibration': 'MinMax', 'calibration_images': int(len(calibration)),
        'kept_float': list(KEPT_FLOAT)}
    return extra
