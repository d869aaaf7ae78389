"""The synthetic road-scene renderer (synthetic_scenes.py): scenes that follow from (seed,
index) alone, with every class in sizes a network can learn."""
import numpy as np

from roadseg.data.synthetic_scenes import CLASS_NAMES, PERSON, ROAD, SKY, render_scene, scene_rng
from source_synthetic import DEFAULTS


def test_a_scene_follows_from_seed_and_index_alone():
    image, classes = render_scene(scene_rng(5, 3), 64, 32)
    assert image.shape == (32, 64, 3) and image.dtype == np.uint8
    assert classes.shape == (32, 64) and classes.max() < len(CLASS_NAMES)
    for index in (0, 1, 2):                   # other scenes first: scene 3 is unchanged
        render_scene(scene_rng(5, index), 64, 32)
    again_image, again_classes = render_scene(scene_rng(5, 3), 64, 32)
    np.testing.assert_array_equal(again_image, image)
    np.testing.assert_array_equal(again_classes, classes)
    for other in (scene_rng(5, 4), scene_rng(6, 3)):
        assert not np.array_equal(render_scene(other, 64, 32)[0], image)


def test_default_size_scenes_have_every_class_in_learnable_sizes():
    """At 256x96, classes are big enough to learn: each appears in most scenes, pedestrians and
    cars are blobs, not slivers, and sky and road are large."""
    width, height = DEFAULTS['image_size']
    present, shares = np.zeros(7), []
    for index in range(40):
        image, classes = render_scene(scene_rng(0, index), width, height)
        assert image.shape == (height, width, 3) and image.dtype == np.uint8
        counts = np.bincount(classes.ravel(), minlength=7)
        present += counts > 0
        shares.append(counts / classes.size)
        for name, smallest in (('car', 150), ('person', 120)):
            count = counts[CLASS_NAMES.index(name)]
            assert count == 0 or count >= smallest, (index, name, count)
    shares = np.array(shares)
    assert (present >= 28).all(), present
    assert shares[:, SKY].min() > 0.05
    assert shares[:, ROAD].min() > 0.05  # even when cars hide most of it
    assert shares[:, ROAD].mean() > 0.15
    assert shares[:, PERSON].mean() > 0.025
