"""KITTI Road with unknown colours as errors, not don't care, at a small size: a strict
variant for checking that reports name the label file."""
import source_kitti


class Strict(source_kitti.KittiRoad):
    image_size = (64, 32)
    ignores_pixels = False


def get_source():
    return Strict()
