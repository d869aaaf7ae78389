"""`ExportedPredictor`: prediction.Predictor's interface on an exported ONNX or TFLite model
(exported_model.py), so that painting and evaluation can run one instead of a checkpoint.

The model's input size is fixed (the run's image size when exported), so every photo is
resized to it as infer.py resizes photos to the run's image size (the OpenCV twins of its
TF ops, which give the same pixels), and the probabilities come back to the photo's size
bilinearly before the argmax. There is no input scale: the model has one input size.
"""
import numpy as np

from roadseg.data import resizing
from roadseg.export.exported_model import to_photo_size
from roadseg.predict.prediction import Prediction, Prepared


class ExportedPredictor:
    """Predicts at each photo's resolution with an `exported_model.ExportedModel`.

    `probability_of`, a class index, also returns that class's probability at the photo's
    size (the road confidence of KITTI), as `prediction.Predictor` does.
    """

    def __init__(self, model, probability_of=None):
        self.model = model
        self.probability_of = probability_of

    def prepare(self, image):
        """Return the `Prepared` input of a photo (uint8 or float [H, W, 3], BGR)."""
        network_input = resizing.resize_photo(np.asarray(image, np.float32),
                                              self.model.input_size)
        width, height = self.model.input_size
        return Prepared(network_input, (height, width), tuple(image.shape[:2]))

    def predict(self, prepared):
        """Return a `Prediction` per `Prepared` photo, in order."""
        return [self.finish(*output) for output in self.network_outputs(prepared)]

    def network_outputs(self, prepared):
        """Run the model on `Prepared` photos; return (prepared, probabilities [h, w, C],
        class map [h, w]) per photo, for `finish`."""
        if not prepared:
            return []
        probabilities, classes = self.model.predict(
            np.stack([item.network_input for item in prepared]))
        return list(zip(prepared, probabilities, classes))

    def finish(self, item, probabilities, network_classes):
        """Return the `Prediction` of one photo from its `network_outputs`: probabilities
        resized to the photo's size, their argmax."""
        height, width = item.photo_size
        full, classes = to_photo_size(probabilities, (width, height))
        if self.probability_of is None:
            return Prediction(classes, network_classes)
        return Prediction(classes, network_classes, full[..., self.probability_of],
                          probabilities[..., self.probability_of])
