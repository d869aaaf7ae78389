"""Predictions at each photo's own resolution.

The network sees the photo resized to the run's image size (as it was trained) or, with an
input scale, the photo scaled by that factor and padded to a multiple of 32. Its class
probabilities, with the padding cropped away, are resized bilinearly to the photo's size,
and the class map is their argmax there; so painting, masks, videos, evaluation and the
exported model all give class maps of the photo's size whose thin structures keep their
width. The graph ops are those of graph_resizing.py, which roadseg/export/savedmodel.py uses too.

With test-time augmentation or windows (tta.InferenceOptions), a photo runs as several
variants (mirrored, other scales), each possibly as overlapping windows; the probabilities
of every variant, mirrored back and resized to the photo's size, are averaged there before
the argmax (and, for the training-size score, at the network size of the plain variant).
"""
from dataclasses import dataclass
from typing import Optional, Tuple

import numpy as np
import tensorflow.compat.v1 as tf

from roadseg.core.errors import UserError
from roadseg.predict import graph_resizing
from roadseg.predict.tta import InferenceOptions
from roadseg.predict.windows import Stitcher, tiles

# Network input pixels per run: a batch is split so that photos at a large input scale run
# a few (or one) at a time, which bounds memory; at the run's image size it never splits.
MAX_PIXELS_PER_RUN = 4 * 1024 * 512


@dataclass(frozen=True)
class Variant:
    """One of the network inputs a photo runs as (test-time augmentation)."""

    network_input: np.ndarray        # float32 [H', W', 3], BGR 0..255, padded to 32
    valid: Tuple[int, int]           # (height, width) of the photo's part of it
    mirrored: bool                   # the photo mirrored left-right


@dataclass(frozen=True)
class Prepared:
    """A photo made ready for the network."""

    network_input: np.ndarray        # float32 [H', W', 3], BGR 0..255, padded to 32
    valid: Tuple[int, int]           # (height, width) of the photo's part of it
    photo_size: Tuple[int, int]      # (height, width) of the photo
    variants: Tuple[Variant, ...] = ()   # with test-time augmentation: every input
    network_size: Optional[Tuple[int, int]] = None   # the plain input's valid size

    def inputs(self):
        """Return the variants this photo runs as (the one input without augmentation)."""
        return self.variants or (Variant(self.network_input, self.valid, False),)


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
    class's probability at the photo's size (the road confidence of KITTI). `options`
    (tta.InferenceOptions) adds test-time variants and windows; `network_runs` and
    `photos` count what they cost.
    """

    def __init__(self, session, model, image_size, input_scale=None, probability_of=None,
                 options=None):
        check_input_scale(input_scale)
        self.session, self.model = session, model
        self.probability_of = probability_of
        self.options = (options or InferenceOptions()).check()
        self.network_runs = self.photos = 0
        with session.graph.as_default():
            self.photo = tf.placeholder(tf.float32, [None, None, 3], name='photo')
            network_input, self.valid = graph_resizing.network_input(
                self.photo[None], image_size, input_scale)
            self.network_input = network_input[0]
            self.variant_ops = [
                (mirrored, *graph_resizing.variant_input(
                    self.photo[None, :, ::-1] if mirrored else self.photo[None], image_size,
                    input_scale, scale))
                for scale, mirrored in self.options.variants]
            self.probabilities = tf.placeholder(tf.float32, [1, None, None, None],
                                                name='network_probabilities')
            self.size = tf.placeholder(tf.int32, [2], name='photo_size')
            full, classes = graph_resizing.to_photo_size(self.probabilities, self.size)
            self.resized = full[0]
            self.finish_ops = {'classes': classes[0]}
            if probability_of is not None:
                self.finish_ops['probability'] = full[0, :, :, probability_of]

    def prepare(self, image):
        """Return the `Prepared` input of a photo (uint8 or float [H, W, 3], BGR)."""
        if self.options.plain:
            network_input, valid = self.session.run([self.network_input, self.valid],
                                                    {self.photo: image})
            return Prepared(network_input, tuple(int(v) for v in valid),
                            tuple(image.shape[:2]))
        fetched = self.session.run([self.valid, [(i, v) for _, i, v in self.variant_ops]],
                                   {self.photo: image})
        variants = tuple(Variant(network_input[0], tuple(int(v) for v in valid), mirrored)
                         for (mirrored, _, _), (network_input, valid)
                         in zip(self.variant_ops, fetched[1]))
        return Prepared(variants[0].network_input, variants[0].valid, tuple(image.shape[:2]),
                        variants, tuple(int(v) for v in fetched[0]))

    def predict(self, prepared):
        """Return a `Prediction` per `Prepared` photo, in order."""
        return [self.finish(*output) for output in self.network_outputs(prepared)]

    def network_outputs(self, prepared):
        """Run the network on `Prepared` photos; return (prepared, probabilities [h, w, C],
        class map [h, w], the variants' probabilities) per photo, the padding cropped away,
        for `finish`. With test-time variants, the probabilities and class map are their
        average at the plain input's valid size."""
        self.photos += len(prepared)
        if self.options.plain:
            self.network_runs += len(prepared)
            return [(item, probabilities, classes, ())
                    for item, probabilities, classes in self.whole_inputs(prepared)]
        outputs = []
        for item, variants in zip(prepared, self.variant_probabilities(prepared)):
            at_network_size = np.mean([self.resize(v, item.network_size) for v in variants],
                                      axis=0)
            outputs.append((item, at_network_size,
                            at_network_size.argmax(axis=-1).astype(np.int32), variants))
        return outputs

    def whole_inputs(self, prepared):
        """Return (prepared, probabilities, class map) of each photo's one input, the
        padding cropped away."""
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

    def variant_probabilities(self, prepared):
        """Return, per photo, each variant's probabilities [h, w, C] (valid part, mirrored
        back), its windows stitched."""
        jobs = [(p, v, tile, variant.network_input[tile[0]:tile[0] + tile[2],
                                                   tile[1]:tile[1] + tile[3]])
                for p, item in enumerate(prepared) for v, variant in enumerate(item.inputs())
                for tile in self.tiles_of(variant.network_input)]
        self.network_runs += len(jobs)
        stitchers = {}
        for group in runs_of([Prepared(crop, crop.shape[:2], crop.shape[:2])
                              for _, _, _, crop in jobs], with_starts=True):
            start, items = group
            probabilities = self.session.run(
                self.model.softmax, {self.model.image_input: np.stack(
                    [item.network_input for item in items]), self.model.keep_prob: 1.0})
            for (p, v, tile, _), probability in zip(jobs[start:start + len(items)],
                                                    probabilities):
                shape = prepared[p].inputs()[v].network_input.shape
                stitcher = stitchers.setdefault(
                    (p, v), Stitcher(shape[0], shape[1], probability.shape[-1]))
                stitcher.add(tile, probability)
        results = []
        for p, item in enumerate(prepared):
            variants = []
            for v, variant in enumerate(item.inputs()):
                height, width = variant.valid
                probability = stitchers[p, v].result()[:height, :width]
                variants.append(probability[:, ::-1] if variant.mirrored else probability)
            results.append(variants)
        return results

    def tiles_of(self, network_input):
        """Return the windows (y, x, h, w) of a network input: one, the whole, without
        --window."""
        height, width = network_input.shape[:2]
        if self.options.window is None:
            return [(0, 0, height, width)]
        return tiles(height, width, self.options.window, self.options.overlap)

    def resize(self, probabilities, size):
        """Return probabilities [h, w, C] resized bilinearly to size (height, width)."""
        if probabilities.shape[:2] == tuple(size):
            return probabilities
        return self.session.run(self.resized, {self.probabilities: probabilities[None],
                                               self.size: size})

    def finish(self, item, probabilities, network_classes, variants=()):
        """Return the `Prediction` of one photo from its `network_outputs`: probabilities
        resized to the photo's size (with variants, each, then averaged), their argmax."""
        network_probability = (None if self.probability_of is None
                               else probabilities[..., self.probability_of])
        if variants:
            full = np.mean([self.resize(v, item.photo_size) for v in variants], axis=0)
            return Prediction(full.argmax(axis=-1).astype(np.int32), network_classes,
                              None if self.probability_of is None
                              else full[..., self.probability_of], network_probability)
        finished = self.session.run(self.finish_ops, {self.probabilities: probabilities[None],
                                                      self.size: item.photo_size})
        return Prediction(finished['classes'], network_classes, finished.get('probability'),
                          network_probability)


def runs_of(prepared, with_starts=False):
    """Split a list of `Prepared` into consecutive runs of one input shape, each within
    MAX_PIXELS_PER_RUN (but at least one photo). `with_starts`: each run comes as (index of
    its first item, items)."""
    groups = []
    for index, item in enumerate(prepared):
        group = groups[-1][1] if groups else None
        pixels = item.network_input.shape[0] * item.network_input.shape[1]
        if (group and group[0].network_input.shape == item.network_input.shape
                and (len(group) + 1) * pixels <= MAX_PIXELS_PER_RUN):
            group.append(item)
        else:
            groups.append((index, [item]))
    return groups if with_starts else [items for _, items in groups]
