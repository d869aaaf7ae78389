"""The TFLite export: TensorFlow's converter on the frozen inference graph (inference_graph.py),
whose fc6 is a plain convolution (TFLite has no ExtractImagePatches) and which has no
dropout.

* none: float32 throughout.
* float16: weights stored as float16 (half the file), computed in float32 (LiteRT's CPU
  kernels dequantise them when the model loads).
* int8: full integer quantisation calibrated on the run's training photos: every operator
  in int8 (TFLITE_BUILTINS_INT8, so the conversion fails rather than leaving one in float),
  weights per output channel, with a float32 input and float32 outputs (one QUANTIZE op
  in, DEQUANTIZE ops out), so the model is used exactly as the float ones are.

The batch is fixed at one image: TFLite's interpreter allocates its tensors for one shape.
"""
import warnings

import tensorflow.compat.v1 as tf

from roadseg.core.errors import UserError
from roadseg.export.exported_model import CLASSES, INPUT, PROBABILITIES
from roadseg.model import checkpoints

QUANTIZE = ('none', 'float16', 'int8')


def converter_for(frozen, session):
    """Return a TFLite converter of a `FrozenGraph` imported into `session`'s graph."""
    tf.import_graph_def(frozen.graph_def, name='')
    graph = session.graph
    return tf.lite.TFLiteConverter.from_session(
        session, [graph.get_tensor_by_name(f'{INPUT}:0')],
        [graph.get_tensor_by_name(f'{name}:0') for name in (PROBABILITIES, CLASSES)])


def convert(frozen, quantize='none', calibration=None):
    """Return the TFLite flatbuffer (bytes) of a `FrozenGraph` with batch 1, quantised as
    asked (`calibration`: the photos [N, H, W, 3] for int8)."""
    if frozen.batch != 1:
        raise ValueError('the TFLite export needs a graph of batch 1')
    graph = tf.Graph()
    with graph.as_default(), tf.Session(graph=graph) as session:
        converter = converter_for(frozen, session)
        if quantize == 'float16':
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
            converter.target_spec.supported_types = [tf.float16]
        elif quantize == 'int8':
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
            converter.representative_dataset = lambda: ([image[None]] for image in calibration)
            converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        try:
            with warnings.catch_warnings():
                # "Statistics for quantized inputs were expected": the input stays float.
                warnings.simplefilter('ignore')
                return converter.convert()
        except Exception as error:   # noqa: BLE001 - the converter raises many kinds
            raise UserError(f'TensorFlow {tf.version.VERSION}\'s TFLite converter cannot '
                            f'convert the inference graph ({quantize}): '
                            f'{type(error).__name__}: {checkpoints.first_line(error)}') from None


def write_tflite(frozen, path, quantize='none', calibration=None):
    """Write the TFLite model of a `FrozenGraph` to `path` (a new file), quantised as asked;
    return the sidecar's TFLite-specific entries."""
    data = convert(frozen, quantize, calibration)
    with open(path, 'wb') as handle:
        handle.write(data)
    extra = {'converter': f'TensorFlow {tf.version.VERSION} TFLiteConverter'}
    if quantize == 'float16':
        extra['quantization'] = {'weights': 'float16', 'compute': 'float32'}
    elif quantize == 'int8':
        extra['quantization'] = {
            'weights': 'int8, per output channel', 'activations': 'int8',
            'operators': 'all int8 (TFLITE_BUILTINS_INT8)',
            'input_output': 'float32 (quantised and dequantised inside the model)',
            'calibration_images': int(len(calibration))}
    return extra
