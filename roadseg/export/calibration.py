"""Calibration images for int8 exports: the run's own training photos.

Static int8 quantisation fixes each activation's range from what the network sees on
representative inputs; the photos the run was trained on are the inputs it will meet. They
come from the run's data source through its training generator, the one path every source
has (bare-contract ones included): a seeded shuffle of the training split at the run's image
size, about half of them mirrored, which calibration does not mind.
"""
import numpy as np

from roadseg.core.errors import UserError
from roadseg.data import resizing, sources

DEFAULT_COUNT = 100
BATCH_SIZE = 8


def calibration_images(settings, count=DEFAULT_COUNT, input_size=None, data_dir=None):
    """Return up to `count` training photos of the run's data source as float32
    [N, H, W, 3], BGR 0..255, at `input_size` (width, height; the run's image size by
    default). The data come from `data_dir`, else the run's; a source without training
    photos there is a `UserError`."""
    if count < 1:
        raise UserError(f'--calibration-images must be at least 1, not {count}')
    name, directory = settings.data_source, data_dir or settings.data_dir
    source = sources.load_source_data(name, directory, settings.valid_fraction, settings.seed,
                                      for_training=False)
    if not source.num_training:
        raise UserError(f'int8 calibration needs the run\'s training photos, and {name} has '
                        f'none in {directory}: give the training data with --data-dir')
    size = tuple(int(v) for v in (input_size or settings.image_size))
    photos = []
    for images, _ in sources.split_batches(source, name, 'training', BATCH_SIZE):
        photos.extend(resizing.resize_photo(image, size) for image in images)
        if len(photos) >= count:
            break
    return np.stack(photos[:count]).astype(np.float32)
