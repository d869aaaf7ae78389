"""prediction.py: how photos are grouped for the network, and the input-scale check."""
import numpy as np
import pytest

import prediction
from errors import UserError


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
