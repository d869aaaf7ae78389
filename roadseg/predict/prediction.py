"""Predictions at each photo's own resolution.

The network sees the photo resized to the run's image size (as it was trained) or, with an
input scale, the photo scaled by that factor and padded to a multiple of 32. Its class
probabilities, with the padding cropped away, are resized bilinearly to the photo's size,
and the class map is their argmax there; so painting, masks, videos, evaluation and the
exported model all give class maps of the photo's size whose thin structures keep their
width. The graph ops are those of graph_resizing.py, which roadseg/export/savedmodel.py uses too.
"""
from dataclasses import dataclass
from typing import Optional, Tuple

import numpy as np
import tensorflow.compat.v1 as tf

from roadseg.core.errors import UserError
from roadseg.predict import graph_resizing

# Network input pixels per run: a batch is split so that photos at a large input scale run
# a few (or one) at a time, which bounds memory; at the run's image size it never splits.
MAX_PIXELS_PER_RUN = 4 * 1024 * 512


@dataclass(frozen=True)
class Prepared:
    """A photo made ready for the network."""

    network_input: np.ndarray        # float32 [H', W', 3], BGR 0..255, padded to 32
    valid: Tuple[int, int]           # (height, width) of the photo's part of it
    photo_size: Tuple[int, int]      # (height, width) of the photo


@dataclass(frozen=True)
class Prediction:
    """What the model says about one photo."""

    classes: np.ndarray              # int32 [H, W] at the photo's size
    network_classes: np.ndarray      # int32 [h, w], the network's own map (valid part)
    probability: Optional[np.ndarray] = None   # float32 [H, W] of one class, if asked
    network_probability: Optional[np.ndarray] = None   # the same on the network's map


def check_input_scale(scale):
    """Raise `UserError` unless `scale` is None or a positive number up to 4."""
    if scale is not None and not 0 < scale <= 4:
        raise UserError(f'--input-scale must be above 0 and at most 4, not {scale}')


class Predictor:
    """A restored model (fcnvgg.FCNVGG) that predicts at each photo's resolution.

    `image_size` (width, height) is the run's; `input_scale`, when given, replaces it by the
    photo's own size times that factor. `probability_of`, a class index, also returns that
    class's probability at the photo's size (the road confidence of KITTI).
    """

    def __init__(self, session, model, image_size, input_scale=None, probability_of=None):
        check_input_scale(input_scale)
        self.session, self.model = session, model
        self.probability_of = probability_of
        with session.graph.as_default():
            self.photo = tf.placeholder(tf.float32, [None, None, 3], name='photo')
            network_input, self.valid = graph_resizing.network_input(
                self.photo[None], image_size, input_scale)
            self.network_input = network_input[0]
            self.probabilities = tf.placeholder(tf.float32, [1, None, None, None],
                                                name='network_probabilities')
            self.size = tf.placeholder(tf.int32, [2], name='photo_size')
            full, classes = graph_resizing.to_photo_size(self.probabilities, self.size)
            self.finish_ops = {'classes': classes[0]}
            if probability_of is not None:
                self.finish_ops['probability'] = full[0, :, :, probability_of]

    def prepare(self, image):
        """Return the `Prepared` input of a photo (uint8 or float [H, W, 3], BGR)."""
        network_input, valid = self.session.run([self.network_input, self.valid],
                                                {self.photo: image})
        return Prepared(network_input, tuple(int(v) for v in valid), tuple(image.shape[:2]))

    def predict(self, prepared):
        """Return a `Prediction` per `Prepared` photo, in order."""
        return [self.finish(*output) for output in self.network_outputs(prepared)]

    def network_outputs(self, prepared):
        """Run the network on `Prepared` photos; return (prepared, probabilities [h, w, C],
        class map [h, w]) per photo, the padding cropped away, for `finish`."""
        outputs = []
        for group in runs_of(prepared):
            probabilities, classes = self.session.run(
                [self.model.softmax, self.model.classes],
                {self.model.image_input: np.stack([p.network_input for p in group]),
                 self.model.keep_prob: 1.0})
            for item, probability, network_classes in zip(group, probabilities, classes):
                height, width = item.valid
                outputs.append((item, probability[:height, :width],
                                network_classes[:height, :width]))
        return outputs

    def finish(self, item, probabilities, network_classes):
        """Return the `Prediction` of one photo from its `network_outputs`: probabilities
        resized to the photo's size, their argmax."""
        finished = self.session.run(self.finish_ops, {self.probabilities: probabilities[None],
                                                      self.size: item.photo_size})
        network_probability = (None if self.probability_of is None
                               else probabilities[..., self.probability_of])
        return Prediction(finished['classes'], network_classes, finished.get('probability'),
                          network_probability)


def runs_of(prepared):
    """Split a list of `Prepared` into consecutive runs of one input shape, each within
    MAX_PIXELS_PER_RUN (but at least one photo)."""
    groups = []
    for item in prepared:
        group = groups[-1] if groups else None
        pixels = item.network_input.shape[0] * item.network_input.shape[1]
        if (group and group[0].network_input.shape == item.network_input.shape
                and (len(group) + 1) * pixels <= MAX_PIXELS_PER_RUN):
            group.append(item)
        else:
            groups.append([item])
    return groups
