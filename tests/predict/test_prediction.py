"""prediction.py: how photos are grouped for the network, and the input-scale check."""
import numpy as np
import pytest

from roadseg.core.errors import UserError
from roadseg.predict import prediction


def prepared(height, width):
    """Return a `Prepared` of a network input of that size."""
    return prediction.Prepared(np.zeros((height, width, 3), np.float32), (height, width),
                               (height, width))


def test_photos_run_together_only_in_one_shape_and_within_the_pixel_budget():
    small, large = prepared(256, 512), prepared(1024, 2048)
    groups = prediction.runs_of([small, small, large, large, small])
    assert [len(g) for g in groups] == [2, 1, 1, 1]       # 2048x1024 runs one at a time
    assert prediction.MAX_PIXELS_PER_RUN < 2 * 1024 * 2048
    assert [len(g) for g in prediction.runs_of([small] * 17)] == [16, 1]


@pytest.mark.parametrize('scale', [0, -1, 4.5])
def test_input_scales_outside_the_range_are_refused(scale):
    with pytest.raises(UserError, match='--input-scale must be above 0 and at most 4'):
        prediction.check_input_scale(scale)
    prediction.check_input_scale(None)
    prediction.check_input_scale(1)


@pytest.mark.parametrize('scale,valid,padded', [(1, (375, 1242), (384, 1248)),
                                                (0.5, (188, 621), (192, 640))])
def test_an_input_scale_sizes_the_network_input_and_pads_it_with_the_mean(scale, valid, padded):
    import tensorflow.compat.v1 as tf

    from roadseg.model.vgg16 import VGG_MEAN_BGR
    from roadseg.predict import graph_resizing
    photo = np.random.default_rng(0).integers(0, 256, (375, 1242, 3)).astype(np.float32)
    with tf.Graph().as_default(), tf.Session() as session:
        network_input, valid_size = session.run(graph_resizing.network_input(
            tf.constant(photo[None]), (576, 160), scale))
    assert tuple(valid_size) == valid and network_input.shape == (1, *padded, 3)
    if scale == 1:       # at native size the photo itself, unresized
        np.testing.assert_array_equal(network_input[0, :375, :1242], photo)
    np.testing.assert_allclose(network_input[0, valid[0]:], np.broadcast_to(
        VGG_MEAN_BGR, network_input[0, valid[0]:].shape), rtol=1e-6)
    np.testing.assert_allclose(network_input[0, :, valid[1]:], np.broadcast_to(
        VGG_MEAN_BGR, network_input[0, :, valid[1]:].shape), rtol=1e-6)
