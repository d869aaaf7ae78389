"""Test-time augmentation (tta.py through prediction.Predictor): a hand-made two-class field
averaged with its mirror, scales that resize probabilities (not class maps), and the checks
of the options."""
import json
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from roadseg.core.errors import UserError
from roadseg.predict.prediction import Predictor
from roadseg.predict.tta import InferenceOptions
from scripts import last_line, run_script

HEIGHT, WIDTH = 64, 128   # half of each a multiple of 32: no padding at scale 0.5


def field_model():
    """A stand-in network: class 1's probability is half the photo's blue channel / 255
    plus half a left-to-right ramp, an asymmetric field; class 0 the rest."""
    images = tf.placeholder(tf.float32, [None, None, None, 3])
    keep_prob = tf.placeholder_with_default(1.0, [])
    width = tf.shape(images)[2]
    ramp = tf.cast(tf.range(width), tf.float32) / tf.cast(tf.maximum(width - 1, 1), tf.float32)
    road = 0.5 * images[..., 0] / 255 + 0.5 * ramp[None, None, :]
    softmax = tf.stack([1 - road, road], axis=-1)
    return SimpleNamespace(image_input=images, keep_prob=keep_prob, softmax=softmax,
                           classes=tf.argmax(softmax, axis=-1, output_type=tf.int32))


def photo():
    """A photo whose blue channel is random: the content-dependent half of the field."""
    return np.random.default_rng(0).integers(0, 256, (HEIGHT, WIDTH, 3)).astype(np.float32)


def predict(options, image=None):
    """Return the `Prediction` of the photo, at the run's size = the photo's size."""
    image = photo() if image is None else image
    with tf.Graph().as_default(), tf.Session() as session:
        predictor = Predictor(session, field_model(), (WIDTH, HEIGHT), probability_of=1,
                              options=options)
        prediction = predictor.predict([predictor.prepare(image)])[0]
        return prediction, predictor.network_runs


def test_the_flip_average_is_the_field_averaged_with_its_mirror():
    plain, runs = predict(InferenceOptions())
    ramp = np.arange(WIDTH) / (WIDTH - 1)
    content = 0.5 * photo()[..., 0] / 255
    np.testing.assert_allclose(plain.probability, content + 0.5 * ramp, atol=1e-6)
    flipped, flipped_runs = predict(InferenceOptions(flip=True))
    # The mirrored run sees the mirrored photo: its content half comes back in place, its
    # ramp comes back reversed; the average holds the ramp and its mirror half each.
    expected = content + 0.5 * (ramp + ramp[::-1]) / 2
    np.testing.assert_allclose(flipped.probability, expected, atol=1e-6)
    np.testing.assert_allclose(flipped.network_probability, expected, atol=1e-6)
    np.testing.assert_array_equal(flipped.classes, (expected > 0.5).astype(np.int32))
    assert (runs, flipped_runs) == (1, 2)


def test_scales_average_probabilities_resized_bilinearly_not_class_maps():
    image = photo()
    prediction, runs = predict(InferenceOptions(scales=(0.5, 1.0)), image)
    assert runs == 2
    # The half-scale variant: the photo shrunk by area averaging (48x32), its field, and
    # the field enlarged bilinearly (half-pixel centres) to the photo's size.
    small = cv2.resize(image, (WIDTH // 2, HEIGHT // 2), interpolation=cv2.INTER_AREA)
    small_road = 0.5 * small[..., 0] / 255 + 0.5 * np.arange(WIDTH // 2) / (WIDTH // 2 - 1)
    enlarged = cv2.resize(small_road.astype(np.float32), (WIDTH, HEIGHT),
                          interpolation=cv2.INTER_LINEAR)
    whole = 0.5 * image[..., 0] / 255 + 0.5 * np.arange(WIDTH) / (WIDTH - 1)
    expected = (whole + enlarged) / 2
    np.testing.assert_allclose(prediction.probability, expected, atol=1e-4)
    # Averaging class maps would give only 0, 0.5 and 1 as the road share: not this.
    assert len(np.unique(np.round(prediction.probability, 3))) > 100


@pytest.mark.parametrize('options, message', [
    (InferenceOptions(scales=(0,)), '--tta-scales: each scale must be above 0'),
    (InferenceOptions(scales=(1, 5)), 'at most 4'),
    (InferenceOptions(scales=()), 'needs at least one scale'),
    (InferenceOptions(window=(100, 50)), '--window 100x50: both sides must be positive '
                                         'multiples of 32'),
    (InferenceOptions(window=(64, 64), overlap=1), '--window-overlap must be at least 0 '
                                                   'and below 1, not 1'),
])
def test_bad_options_are_one_user_error(options, message):
    with pytest.raises(UserError, match=message):
        options.check()


def test_the_options_describe_themselves_and_round_trip_through_json():
    options = InferenceOptions(True, (0.75, 1.0, 1.25), (512, 256), 0.25)
    assert options.describe() == ('scales 0.75,1,1.25, mirrored, windows 512x256 '
                                  'overlapping 0.25')
    assert InferenceOptions.from_json(options.to_json()) == options
    assert len(options.variants) == 6 and options.variants[0] == (0.75, False)
    assert InferenceOptions().plain and not options.plain


def test_averaged_variants_score_about_as_the_plain_run_on_synthetic_scenes(learned_run,
                                                                           tmp_path):
    run_dir, _ = learned_run
    scores = {}
    # Mirroring, not scales: the scenes are 64x32, a handful of the network's 32-pixel
    # cells, where other scales move objects across cells (they lowered the score here).
    for name, flags in (('plain', ()), ('tta', ('--tta-flip',))):
        result = run_script('infer.py', '--name', run_dir, '--evaluate', '--output-dir',
                            tmp_path / name, *flags)
        assert result.returncode == 0, result.stderr[-2000:]
        with open(tmp_path / name / 'metrics.json') as handle:
            scores[name] = json.load(handle)
    plain, tta = scores['plain'], scores['tta']
    assert tta['inference'] == {'flip': True, 'scales': [1.0], 'window': None,
                                'window_overlap': None}
    assert (plain['network_runs_per_photo'], tta['network_runs_per_photo']) == (1, 2)
    # Whether mirroring adds or costs a little depends on the CPU's kernels (fp32 here,
    # bf16 elsewhere): 0.529 against 0.532 on an AMD EPYC without bf16. A mirrored run that
    # is not mirrored back would put objects on the wrong side and fall far below.
    assert tta['full_resolution']['mean_iou'] >= plain['full_resolution']['mean_iou'] - 0.02
    assert tta['full_resolution'] != plain['full_resolution']     # the variants were used


@pytest.mark.parametrize('flags, message', [
    (('--tta-scales', '0'), '--tta-scales: each scale must be above 0 and at most 4, not 0'),
    (('--window', '100x50'), '--window 100x50: both sides must be positive multiples of 32'),
    (('--window', '64x64', '--window-overlap', '1'), '--window-overlap must be at least 0 '
                                                     'and below 1, not 1'),
])
def test_bad_values_are_one_line(learned_run, tmp_path, flags, message):
    run_dir, _ = learned_run
    result = run_script('infer.py', '--name', run_dir, '--evaluate', '--output-dir',
                        tmp_path / 'eval', *flags)
    assert result.returncode == 1
    assert last_line(result.stderr) == f'[!] {message}'
    assert 'Traceback' not in result.stderr and not (tmp_path / 'eval').exists()


def test_an_exported_model_refuses_test_time_variants(tmp_path):
    (tmp_path / 'model.onnx').write_bytes(b'not needed: refused before it is read')
    result = run_script('infer.py', '--model', tmp_path / 'model.onnx', '--samples-dir',
                        tmp_path, '--output-dir', tmp_path / 'out', '--tta-flip')
    assert result.returncode == 1
    assert last_line(result.stderr) == ("[!] --tta-flip applies to the run's checkpoint, not "
                                        'to --model (an exported model has one input size '
                                        'and precision, and runs each photo once)')
