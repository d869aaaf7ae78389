"""The data-source contract (sources.py): finding sources by name and checking what they
give before and after loading."""
import sys

import pytest

from fixtures import source_text
from roadseg.core.errors import UserError
from roadseg.data import sources
from roadseg.data.sources import available_sources, check_loaded_source, load_data_source


@pytest.fixture
def module_dir(tmp_path, monkeypatch):
    """A folder on the Python path for source modules the tests write."""
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


def write_module(folder, name, text):
    """Write a module and forget any earlier import of the same name."""
    (folder / f'{name}.py').write_text(text)
    sys.modules.pop(name, None)


# --- load_data_source ------------------------------------------------------------------------

def test_built_in_sources_load_and_are_listed():
    assert {'kitti', 'cityscapes', 'synthetic'} <= set(available_sources())
    for name in ('kitti', 'cityscapes', 'synthetic'):
        source = load_data_source(name)
        assert source.image_size[0] % 32 == 0 and source.image_size[1] % 32 == 0
        assert len(source.label_colors) == source.num_classes == len(source.class_names)


@pytest.mark.parametrize('name', ['Kitti', '../kitti', 'kit-ti', '', 'a b'])
def test_bad_names_are_refused_with_the_list(name):
    with pytest.raises(UserError, match=r'invalid data source name.*available: .*kitti'):
        load_data_source(name)


def test_unknown_source_lists_the_available_ones(module_dir):
    write_module(module_dir, 'source_mine', source_text('minimal'))
    with pytest.raises(UserError) as error:
        load_data_source('nosuchthing')
    message = str(error.value)
    assert "unknown data source 'nosuchthing'" in message
    assert 'cityscapes, cityscapes19, kitti, mine, synthetic' in message


def test_good_test_source_loads(module_dir):
    write_module(module_dir, 'source_fine', source_text('minimal'))
    assert load_data_source('fine').image_size == (64, 32)


@pytest.mark.parametrize('text, pattern', [
    ('x = 1\n', r'has no get_source\(\) function'),
    ('def get_source():\n    return object()\n',
     r'lacks image_size, num_classes, label_colors, load_data'),
    (source_text('minimal', '(64, 32)', '(100, 64)'),
     r'image_size \(100, 64\): it must be \(width, height\) with both multiples of 32, '
     r'for example \(96, 64\)'),
    (source_text('minimal', '(64, 32)', '(64,)'), r'image_size \(64,\)'),
    (source_text('minimal', 'num_classes = 2', 'num_classes = 0'), 'num_classes 0'),
    (source_text('minimal', '1: (255, 255, 255)', '2: (255, 255, 255)'),
     'label_colors entry 2'),
    (source_text('minimal', '1: (255, 255, 255)', '1: (256, 0, 0)'),
     'label_colors entry 1'),
    ('import nonexistent_helper_package\n', "needs the Python module 'nonexistent_helper_"),
])
def test_broken_source_modules_are_named(module_dir, text, pattern):
    write_module(module_dir, 'source_broken', text)
    with pytest.raises(UserError, match=pattern):
        load_data_source('broken')


def test_loaded_source_is_checked():
    class Loaded:
        image_size, num_training, num_validation = (64, 32), 0, 0
        train_generator = valid_generator = None
    with pytest.raises(UserError, match='found no training samples'):
        check_loaded_source(Loaded(), 'x')
    del Loaded.valid_generator
    with pytest.raises(UserError, match='lacks valid_generator after load_data'):
        check_loaded_source(Loaded(), 'x')


def test_optional_attributes_have_one_table_of_defaults():
    class Bare:
        num_classes = 3
    class Rich(Bare):
        class_names = ['a', 'b', 'c']
        ignores_pixels = True
        epoch = 0
    assert sources.optional(Bare(), 'ignores_pixels') is False
    assert sources.class_names(Bare()) == ['class 0', 'class 1', 'class 2']
    assert sources.class_names(Rich()) == ['a', 'b', 'c']
    assert sources.optional(Rich(), 'ignores_pixels') is True
    rich, bare = Rich(), Bare()
    assert sources.set_optional(rich, 'epoch', 4) and rich.epoch == 4
    assert not sources.set_optional(bare, 'epoch', 4) and not hasattr(bare, 'epoch')
    assert sources.optional_of_batches(iter([]), 'files') is None
    with pytest.raises(KeyError):             # only documented attributes are optional
        sources.optional(Bare(), 'colour_table')
