"""Sliding windows (windows.py through prediction.Predictor): they tile an input exactly,
overlaps are averaged exactly, a fully convolutional network run in windows equals the whole
run away from window borders, and a photo past the old memory bound paints in windows."""
import cv2
import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from fcnvgg import FCNVGG
from roadseg.predict import prediction
from roadseg.predict.prediction import Predictor
from roadseg.predict.tta import InferenceOptions
from roadseg.predict.windows import Stitcher, tiles, window_starts
from scripts import run_script


@pytest.mark.parametrize('height, width, window, overlap', [
    (384, 1248, (512, 256), 1 / 3), (1024, 2048, (512, 512), 0.5), (64, 64, (128, 128), 0.25),
    (352, 480, (224, 160), 0), (96, 3200, (96, 96), 0.9)])
def test_windows_cover_every_pixel_and_stay_inside(height, width, window, overlap):
    covered = np.zeros((height, width), np.int32)
    found = tiles(height, width, window, overlap)
    for y, x, h, w in found:
        assert y % 32 == 0 and x % 32 == 0 and h % 32 == 0 and w % 32 == 0
        assert y + h <= height and x + w <= width
        assert (h, w) == (min(window[1], height), min(window[0], width))
        covered[y:y + h, x:x + w] += 1
    assert covered.min() >= 1                                   # edges included
    assert max(y + h for y, _, h, _ in found) == height
    assert max(x + w for _, x, _, w in found) == width
    assert len(set(found)) == len(found)


def test_consecutive_windows_overlap_by_about_the_fraction():
    assert window_starts(1248, 512, 1 / 3) == [0, 320, 640, 736]
    assert window_starts(1248, 512, 0) == [0, 512, 736]
    assert window_starts(512, 512, 0.5) == [0]


def test_overlaps_are_averaged_exactly():
    stitcher = Stitcher(64, 160, 2)
    found = tiles(64, 160, (96, 64), 1 / 3)      # starts 0, 64: columns 64..95 shared
    assert found == [(0, 0, 64, 96), (0, 64, 64, 96)]
    for value, tile in zip((0.2, 0.6), found):
        stitcher.add(tile, np.full((64, 96, 2), value, np.float32))
    result = stitcher.result()
    np.testing.assert_allclose(result[:, :64], 0.2)
    np.testing.assert_allclose(result[:, 64:96], 0.4)
    np.testing.assert_allclose(result[:, 96:], 0.6)
    with pytest.raises(ValueError, match='uncovered'):
        Stitcher(64, 64, 2).result()


def fcn_probabilities(options, image, recorded=None):
    """Return the probabilities [h, w, C] of a narrow scratch FCN-8s (fp32, seed 0) on a
    photo at its native scale; `recorded` collects the shapes fed to the network."""
    with tf.Graph().as_default(), tf.Session() as session:
        tf.set_random_seed(0)
        model = FCNVGG(session)
        model.build_from_vgg(None, 3, backbone='scratch', width=0.0625)
        # The score layers start at zero (every probability 1/3): give them values.
        rng = np.random.default_rng(0)
        for variable in tf.global_variables():
            if 'score_' in variable.name and 'weights' in variable.name:
                variable.load(rng.normal(0, 0.5, variable.shape).astype(np.float32), session)
        if recorded is not None:
            run = session.run

            def recording_run(fetches, feed_dict=None, **kwargs):
                if feed_dict and model.image_input in feed_dict:
                    recorded.append(feed_dict[model.image_input].shape)
                return run(fetches, feed_dict, **kwargs)
            session.run = recording_run
        predictor = Predictor(session, model, None, input_scale=1.0, options=options)
        item, probabilities, _, variants = predictor.network_outputs(
            [predictor.prepare(image)])[0]
        return probabilities, predictor.network_runs


def test_a_window_run_equals_the_whole_run_away_from_window_borders():
    image = np.random.default_rng(1).integers(0, 256, (64, 1024, 3)).astype(np.float32)
    whole, _ = fcn_probabilities(InferenceOptions(window=(1024, 64)), image)
    windowed, runs = fcn_probabilities(InferenceOptions(window=(512, 64)), image)
    assert runs == 3                                   # windows at 0, 320 and 512
    # Column x < 100 lies only in the window at 0, whose inner border (512) is more than
    # VGG16's half receptive field (about 200 pixels) away; the same for x >= 924 and the
    # window at 512, whose inner border is 512.
    np.testing.assert_allclose(windowed[:, :100], whole[:, :100], atol=1e-4)
    np.testing.assert_allclose(windowed[:, 924:], whole[:, 924:], atol=1e-4)
    # Near the borders the windows see less context: the test can tell them apart.
    assert np.abs(windowed[:, 400:600] - whole[:, 400:600]).max() > 1e-3


def test_a_photo_past_the_old_memory_bound_runs_in_windows_of_bounded_size():
    image = np.random.default_rng(2).integers(0, 256, (1536, 2048, 3)).astype(np.uint8)
    assert image.shape[0] * image.shape[1] > prediction.MAX_PIXELS_PER_RUN
    recorded = []
    probabilities, runs = fcn_probabilities(InferenceOptions(window=(512, 512)),
                                            image.astype(np.float32), recorded)
    assert probabilities.shape[:2] == (1536, 2048)
    assert runs == len(tiles(1536, 2048, (512, 512), 1 / 3))
    assert max(batch * h * w for batch, h, w, _ in recorded) <= prediction.MAX_PIXELS_PER_RUN
    assert max(h * w for _, h, w, _ in recorded) == 512 * 512


def test_infer_paints_a_photo_past_the_old_memory_bound_with_windows(trained_run, tmp_path):
    run_dir, _ = trained_run
    photos = tmp_path / 'photos'
    photos.mkdir()
    large = np.random.default_rng(3).integers(0, 256, (1536, 2048, 3)).astype(np.uint8)
    cv2.imwrite(str(photos / 'large.png'), large)
    result = run_script('infer.py', '--name', run_dir, '--samples-dir', photos,
                        '--output-dir', tmp_path / 'out', '--masks', '--input-scale', '1',
                        '--window', '512x512')
    assert result.returncode == 0, result.stderr[-2000:]
    classes = cv2.imread(str(tmp_path / 'out' / 'large_classes.png'), cv2.IMREAD_UNCHANGED)
    assert classes.shape == (1536, 2048)
    assert cv2.imread(str(tmp_path / 'out' / 'large.png')).shape == (1536, 2048, 3)
