"""What a data-source author needs, in one import: `import utils`.

Every name here lives in the module named for its concept (the README's "How the code is
organised" lists them); this module only gathers the ones a `source_<name>.py` uses, so that
sources written against it keep working however the rest of the code moves.
"""
from batches import EpochBatches
from checks import check_image_size
from drawing import class_map_to_colors
from errors import UserError
from files import find_files, make_directory, require_directory
from image_label_source import ImageLabelSource
from images import looks_like_image, read_image, write_image
from labels import colors_to_class_map, one_hot
from resizing import resize_label
from resizing import resize_photo as resize_image
from samples import collect_samples, report_skipped, split_samples

__all__ = ['EpochBatches', 'ImageLabelSource', 'UserError', 'check_image_size',
           'class_map_to_colors', 'collect_samples', 'colors_to_class_map', 'find_files',
           'looks_like_image', 'make_directory', 'one_hot', 'read_image', 'report_skipped',
           'require_directory', 'resize_image', 'resize_label', 'split_samples', 'write_image']
