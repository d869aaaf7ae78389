"""The data-source author's facade (utils.py): each name it gathers is the concept module's
own object, and the README lists exactly those names."""
import importlib
import os
import re

import utils
from conftest import ROOT

# Where each name utils.py gathers lives, and under which name there.
HOMES = {'EpochBatches': 'batches', 'ImageLabelSource': 'image_label_source',
         'UserError': 'errors', 'check_image_size': 'checks',
         'class_map_to_colors': 'drawing', 'collect_samples': 'samples',
         'colors_to_class_map': 'labels', 'find_files': 'files', 'looks_like_image': 'images',
         'make_directory': 'files', 'one_hot': 'labels', 'read_image': 'images',
         'report_skipped': 'samples', 'require_directory': 'files',
         'resize_image': 'resizing.resize_photo', 'resize_label': 'resizing',
         'split_samples': 'samples', 'write_image': 'images'}


def home_of(name):
    """Return the object that utils.`name` must be, from its concept module."""
    module, _, own_name = HOMES[name].partition('.')
    return getattr(importlib.import_module(module), own_name or name)


def test_every_name_is_the_concept_modules_own_object():
    assert sorted(utils.__all__) == sorted(HOMES)
    for name in utils.__all__:
        assert getattr(utils, name) is home_of(name), name


def test_the_readme_lists_what_utils_gathers():
    with open(os.path.join(ROOT, 'README.md')) as handle:
        readme = handle.read()
    section = readme[readme.index('### Adding a data source'):]
    listing = section[section.index('one `import utils`'):section.index('```python')]
    assert sorted(re.findall(r'`([A-Za-z_]+)`', listing)) == sorted(utils.__all__)
