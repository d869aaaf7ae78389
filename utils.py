"""What a data-source author needs, in one import: `import utils`.

Every name here lives in the roadseg module named for its concept (docs/architecture.md
maps them); this module only gathers the ones a `source_<name>.py` uses, so that sources
written against it keep working however the package moves.

`resize_image` is the older name of `resize_photo`, kept so that existing sources still
import; new code uses `resize_photo`.
"""
from roadseg.core.checks import check_image_size
from roadseg.core.errors import UserError
from roadseg.core.files import find_files, make_directory, require_directory
from roadseg.data.batches import EpochBatches
from roadseg.data.drawing import class_map_to_colors
from roadseg.data.image_label_source import ImageLabelSource
from roadseg.data.images import looks_like_image, read_image, write_image
from roadseg.data.labels import colors_to_class_map, one_hot
from roadseg.data.resizing import resize_label, resize_photo
from roadseg.data.samples import collect_samples, report_skipped, split_samples

resize_image = resize_photo   # the name sources written before resize_photo use

__all__ = ['EpochBatches', 'ImageLabelSource', 'UserError', 'check_image_size',
           'class_map_to_colors', 'collect_samples', 'colors_to_class_map', 'find_files',
           'looks_like_image', 'make_directory', 'one_hot', 'read_image', 'report_skipped',
           'require_directory', 'resize_image', 'resize_label', 'resize_photo',
           'split_samples', 'write_image']
