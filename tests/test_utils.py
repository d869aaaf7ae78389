"""The data-source author's facade (utils.py): each name it gathers is the concept module's
own object, and docs/data-sources.md lists exactly those names."""
import importlib
import os
import re

import utils
from conftest import ROOT

# Where each name utils.py gathers lives, and under which name there.
HOMES = {'EpochBatches': 'data.batches', 'ImageLabelSource': 'data.image_label_source',
         'UserError': 'core.errors', 'check_image_size': 'core.checks',
         'class_map_to_colors': 'data.drawing', 'collect_samples': 'data.samples',
         'colors_to_class_map': 'data.labels', 'find_files': 'core.files',
         'looks_like_image': 'data.images', 'make_directory': 'core.files',
         'one_hot': 'data.labels', 'read_image': 'data.images',
         'report_skipped': 'data.samples', 'require_directory': 'core.files',
         'resize_image': 'data.resizing:resize_photo', 'resize_label': 'data.resizing',
         'resize_photo': 'data.resizing', 'split_samples': 'data.samples',
         'write_image': 'data.images'}


def home_of(name):
    """Return the object that utils.`name` must be, from its concept module."""
    module, _, own_name = HOMES[name].partition(':')
    return getattr(importlib.import_module('roadseg.' + module), own_name or name)


def test_every_name_is_the_concept_modules_own_object():
    assert sorted(utils.__all__) == sorted(HOMES)
    for name in utils.__all__:
        assert getattr(utils, name) is home_of(name), name


def test_the_docs_list_what_utils_gathers():
    with open(os.path.join(ROOT, 'docs', 'data-sources.md')) as handle:
        text = handle.read()
    section = text[text.index('## Adding a data source'):]
    listing = section[section.index('one `import utils`'):section.index('```python')]
    assert sorted(re.findall(r'`([A-Za-z_]+)`', listing)) == sorted(utils.__all__)
