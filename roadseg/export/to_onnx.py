"""The ONNX export: tf2onnx converts the frozen inference graph (inference_graph.py); int8 is
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
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

from roadseg.core.errors import UserError
from roadseg.export.exported_model import CLASSES, INPUT, PROBABILITIES
from roadseg.model import checkpoints

# The folder holding the roadseg package, for the child process that converts.
REPOSITORY = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

OPSET = 13
QUANTIZE = ('none', 'int8')
CALIBRATION_BATCH = 4
MAX_EMBEDDED_BYTES = 2 ** 31 - 2 ** 26   # an ONNX file is one protobuf: under 2 GB
KEPT_FLOAT = ('Softmax', 'ArgMax')   # op types left out of int8


@contextlib.contextmanager
def numpy_product_alias():
    """Within `with`, `np.product` exists: tf2onnx 1.17's large-model path still calls it,
    and NumPy 2 removed it (it was `np.prod` under another name)."""
    added = not hasattr(np, 'product')
    if added:
        np.product = np.prod
    try:
        yield
    finally:
        if added:
            del np.product


def convert(frozen, work_dir):
    """Return the ONNX ModelProto of a `FrozenGraph`, with the input and outputs named as
    in TensorFlow without the `:0`; `work_dir` holds the files passed between processes.

    tf2onnx runs in a child process with protobuf's pure-Python implementation. With the
    default (upb), every one of tf2onnx's optimisation passes copied the weights (540 MB for
    the full-width VGG16) into an arena that is never freed: converting the full network
    took over 22 GB and crashed. In pure Python the passes share the weights' bytes; the
    conversion peaks at about 9 GB (TensorFlow's own graph optimisation) instead.
    """
    import onnx  # noqa: PLC0415 - optional: only for ONNX exports
    graph_path = os.path.join(work_dir, 'frozen.pb')
    model_path = os.path.join(work_dir, 'converted.onnx')
    with open(graph_path, 'wb') as handle:
        handle.write(frozen.graph_def.SerializeToString())
    env = dict(os.environ, PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION='python',
               TF_CPP_MIN_LOG_LEVEL='2',
               PYTHONPATH=os.pathsep.join(filter(None, [REPOSITORY,
                                                        os.environ.get('PYTHONPATH')])))
    child = subprocess.run([sys.executable, '-m', __spec__.name, graph_path, model_path],
                           capture_output=True, text=True, env=env, check=False)
    if child.returncode != 0:
        lines = [line for line in child.stderr.splitlines() if line.strip()]
        reason = lines[-1] if lines else f'exit status {child.returncode}'
        raise UserError('cannot convert the inference graph to ONNX: '
                        f'{reason.removeprefix("[!] ")}')
    try:
        return onnx.load(model_path)
    finally:
        for path in (graph_path, model_path):
            os.remove(path)


def convert_in_this_process(graph_path, model_path):
    """Convert the frozen GraphDef in `graph_path` to the ONNX model `model_path` (the
    child process of `convert`)."""
    import onnx  # noqa: PLC0415 - optional: only for ONNX exports
    import tensorflow.compat.v1 as tf  # noqa: PLC0415 - here, after the protobuf choice
    import tf2onnx  # noqa: PLC0415
    graph_def = tf.GraphDef()
    with open(graph_path, 'rb') as handle:
        graph_def.ParseFromString(handle.read())
    try:
        with numpy_product_alias():
            model, storage = tf2onnx.convert.from_graph_def(
                graph_def, input_names=[f'{INPUT}:0'],
                output_names=[f'{PROBABILITIES}:0', f'{CLASSES}:0'], opset=OPSET,
                large_model=True)
    except Exception as error:   # noqa: BLE001 - tf2onnx raises many kinds; say which
        raise UserError(f'tf2onnx {tf2onnx.__version__} cannot convert the inference '
                        f'graph: {type(error).__name__}: {checkpoints.first_line(error)}') from None
    embed_external_tensors(model, storage.name_to_tensor_data)
    rename(model, {f'{name}:0': name for name in (INPUT, PROBABILITIES, CLASSES)})
    onnx.save(model, model_path)


def embed_external_tensors(model, data):
    """Put the tensors tf2onnx kept apart ({location: bytes}) back into the model's
    initializers and constant attributes; `UserError` if they do not fit one ONNX file."""
    import onnx  # noqa: PLC0415 - optional: only for ONNX exports
    if sum(len(v) for v in data.values()) > MAX_EMBEDDED_BYTES:
        raise UserError('the network\'s weights exceed the 2 GB an ONNX file can hold: '
                        'export a narrower network')
    tensors = list(model.graph.initializer) + [
        attribute.t for node in model.graph.node for attribute in node.attribute
        if attribute.HasField('t')]
    for tensor in tensors:
        if tensor.data_location == onnx.TensorProto.EXTERNAL:
            location = next(entry.value for entry in tensor.external_data
                            if entry.key == 'location')
            tensor.raw_data = data[location]
            del tensor.external_data[:]
            tensor.data_location = onnx.TensorProto.DEFAULT


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
    import onnx  # noqa: PLC0415 - optional: only for ONNX exports
    from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod,  # noqa
                                          QuantFormat, QuantType, quantize_static)
    from onnxruntime.quantization.shape_inference import quant_pre_process  # noqa

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
    import onnx  # noqa: PLC0415 - optional: only for ONNX exports
    import tf2onnx  # noqa: PLC0415
    model = convert(frozen, os.path.dirname(path) or '.')
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
    import onnxruntime  # noqa: PLC0415
    extra['quantization'] = {
        'tool': f'onnxruntime {onnxruntime.__version__} quantize_static',
        'format': 'QDQ', 'weights': 'int8, per output channel', 'activations': 'int8',
        'calibration': 'MinMax', 'calibration_images': int(len(calibration)),
        'kept_float': list(KEPT_FLOAT)}
    return extra


if __name__ == '__main__':
    from roadseg.core.errors import run_script  # noqa: PLC0415
    run_script(lambda: convert_in_this_process(*sys.argv[1:3]))
