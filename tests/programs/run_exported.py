"""Run an exported ONNX or TFLite model the way a user of it would, in a fresh process.

    python run_exported.py MODEL RUNTIME PHOTO...

RUNTIME is onnxruntime, opencv, litert or tf.lite. Prints one JSON line: {"classes":
{photo path: class map at the photo's size as nested lists}, "tensorflow_imported": bool,
"input_size": [w, h]}, after checking that the probabilities have the photo's size and sum
to one, and that the model's own class map at the input size, for a batch of two, is the
argmax of its own probabilities.
"""
import json
import os
import sys

import cv2
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__)))))
from roadseg.export.exported_model import ExportedModel  # noqa: E402 - after the path is set

model = ExportedModel(sys.argv[1], sys.argv[2])
out = {}
# int8 TFLite gives each probability in steps of 1/256.
tolerance = model.num_classes / 256 if model.quantize == 'int8' else 1e-3
for path in sys.argv[3:]:
    photo = cv2.imread(path)
    probabilities, classes = model.predict_photo(photo)
    assert probabilities.shape == photo.shape[:2] + (model.num_classes,), probabilities.shape
    assert classes.shape == photo.shape[:2] and classes.dtype == np.int32, classes.shape
    assert np.allclose(probabilities.sum(-1), 1, atol=tolerance), probabilities.sum(-1)
    out[path] = classes.tolist()
width, height = model.input_size
network = cv2.resize(cv2.imread(sys.argv[3]), (width, height)).astype(np.float32)
probabilities, classes = model.predict(np.stack([network, network[:, ::-1]]))
assert probabilities.shape == (2, height, width, model.num_classes), probabilities.shape
own = probabilities.argmax(-1)
# int8 probabilities come from the int8 logits through a float softmax: their argmax is the
# class map except where two classes tie after rounding.
assert (own == classes).mean() >= (0.99 if model.quantize == 'int8' else 1.0)
print(json.dumps({'classes': out, 'tensorflow_imported': 'tensorflow' in sys.modules,
                  'input_size': list(model.input_size)}))
