"""Run an exported SavedModel the way a serving user would, with TensorFlow 2 only.

    python serve_exported.py EXPORT_DIR PHOTO...

Prints {photo path: class map as nested lists} as JSON, after checking that the
probabilities have the photo's size and sum to one.
"""
import json
import sys

import cv2
import numpy as np
import tensorflow as tf

model = tf.saved_model.load(sys.argv[1])
serve = model.signatures['serving_default']
out = {}
for path in sys.argv[2:]:
    image = cv2.imread(path).astype(np.float32)[None]
    result = serve(images=tf.constant(image))
    probabilities = result['probabilities'].numpy()
    assert probabilities.shape[:3] == image.shape[:3], probabilities.shape
    assert np.allclose(probabilities.sum(-1), 1, atol=1e-4)
    out[path] = result['classes'].numpy()[0].tolist()
print(json.dumps(out))
