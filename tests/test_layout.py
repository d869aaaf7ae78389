"""The house's floors: the repository root holds only what a user touches, imports inside
the roadseg package point down the data flow, and docs/architecture.md maps every module."""
import ast
import os
import re
import subprocess

import pytest

from conftest import ROOT

# The stages of roadseg, in the order of roadseg/__init__.py: a module may import from its
# own stage and the ones before it.
STAGES = ('core', 'data', 'model', 'predict', 'score', 'train', 'export', 'bench')
# Top-level modules that belong to a stage: the FCN-8s head and the upsampling (model), and
# the source authors' facade (data).
TOP_LEVEL_STAGE = {'fcnvgg': 'model', 'upscale': 'model', 'utils': 'data'}
SCRIPTS = ('main', 'infer', 'check_data_source', 'bench', 'reproduce')
ROOT_ENTRIES = {'README.md', 'docs', 'tests', 'roadseg', 'requirements.txt',
                'requirements-export.txt', 'requirements-test.txt', '.ci', '.gitignore',
                'main.py', 'infer.py', 'check_data_source.py', 'upscale.py', 'bench.py',
                'reproduce.py', 'fcnvgg.py', 'utils.py'}


def tracked_files():
    """Return the repository's tracked files."""
    return subprocess.run(['git', 'ls-files'], cwd=ROOT, capture_output=True, text=True,
                          check=True).stdout.split()


def package_modules():
    """Return {dotted name: path} of every module of the roadseg package."""
    modules = {}
    for folder, _, names in os.walk(os.path.join(ROOT, 'roadseg')):
        for name in names:
            if name.endswith('.py'):
                path = os.path.join(folder, name)
                dotted = os.path.relpath(path, ROOT)[:-3].replace(os.sep, '.')
                modules[dotted.removesuffix('.__init__')] = path
    return modules


def imported_modules(path):
    """Return the absolute module names a Python file imports, anywhere in it."""
    with open(path) as handle:
        tree = ast.parse(handle.read(), path)
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f'{node.module}.{alias.name}' for alias in node.names)
    return found


def stage_of(module):
    """Return the stage a module belongs to, 'script'/'source' for the top-level ones, or
    None for a module outside the project (numpy, TensorFlow, ...)."""
    parts = module.split('.')
    if parts[0] == 'roadseg':
        return parts[1] if len(parts) > 1 and parts[1] in STAGES else None
    if parts[0] in TOP_LEVEL_STAGE:
        return TOP_LEVEL_STAGE[parts[0]]
    if parts[0] in SCRIPTS:
        return 'script'
    if parts[0].startswith('source_'):
        return 'source'
    return None


def upward_imports(module, imported):
    """Return the imports of `module` that point up the data flow (or at a script or a
    data source), as 'module -> imported' lines."""
    own = STAGES.index(stage_of(module))
    wrong = []
    for name in sorted(imported):
        stage = stage_of(name)
        if stage in ('script', 'source') or (stage in STAGES and STAGES.index(stage) > own):
            wrong.append(f'{module} -> {name}')
    return wrong


def test_the_root_holds_only_what_a_user_touches():
    entries = {path.split('/')[0] for path in tracked_files()}
    sources = {name for name in entries if re.fullmatch(r'source_[a-z0-9_]+\.py', name)}
    assert entries - sources == ROOT_ENTRIES
    assert {'source_kitti.py', 'source_cityscapes.py'} <= sources


def test_imports_in_the_package_point_down_the_data_flow():
    checked = dict(package_modules())
    checked.update({name: os.path.join(ROOT, f'{name}.py') for name in TOP_LEVEL_STAGE})
    wrong = []
    for module, path in checked.items():
        if stage_of(module) in STAGES:
            wrong += upward_imports(module, imported_modules(path))
    assert not wrong
    assert len(checked) > 60     # the walk found the package


@pytest.mark.parametrize('module, imported', [
    ('roadseg.data.labels', 'roadseg.train.run_settings'),    # a later stage
    ('roadseg.model.vgg16', 'roadseg.predict.prediction'),
    ('roadseg.core.files', 'roadseg.data'),
    ('fcnvgg', 'roadseg.train.optimizers'),                  # the head is model stage
    ('roadseg.score.metrics', 'main'),                       # a script
    ('roadseg.data.sources', 'source_kitti'),                # a data source
])
def test_an_upward_import_is_caught(module, imported):
    assert upward_imports(module, {imported}) == [f'{module} -> {imported}']


def test_a_downward_import_passes():
    assert upward_imports('roadseg.train.epochs', {'roadseg.score.metrics', 'numpy',
                                                   'fcnvgg', 'roadseg.core.errors'}) == []


def module_map():
    """Return the module paths docs/architecture.md's "Module map" names."""
    with open(os.path.join(ROOT, 'docs', 'architecture.md')) as handle:
        text = handle.read()
    section = text[text.index('## Module map'):]
    return set(re.findall(r'`((?:roadseg/[a-z_/]+/)?[a-z_0-9]+\.py)`', section))


def test_the_module_map_names_every_module_and_nothing_else():
    listed = module_map()
    package = {os.path.relpath(path, ROOT) for name, path in package_modules().items()
               if not path.endswith('__init__.py')}
    top = {path for path in tracked_files() if '/' not in path and path.endswith('.py')}
    assert listed == package | top


def test_each_stage_is_a_folder_of_the_package():
    folders = {name for name in os.listdir(os.path.join(ROOT, 'roadseg'))
               if os.path.isdir(os.path.join(ROOT, 'roadseg', name)) and name != '__pycache__'}
    assert folders == set(STAGES)
    with open(os.path.join(ROOT, 'roadseg', '__init__.py')) as handle:
        docstring = handle.read()
    listed = re.findall(r'^    ([a-z]+) ', docstring, re.MULTILINE)
    assert tuple(listed) == STAGES      # the package states the order this test enforces


# Top-level tests that are about the whole project rather than one module.
CROSS_CUTTING_TESTS = {'test_layout.py', 'test_readme.py', 'test_faults.py',
                       'test_legacy_runs.py', 'test_trust.py'}


def test_the_tests_mirror_the_package():
    strays = []
    for path in tracked_files():
        parts = path.split('/')
        if parts[0] != 'tests' or not re.fullmatch(r'test_\w+\.py', parts[-1]):
            continue
        name = parts[-1][len('test_'):-len('.py')]
        if len(parts) == 2:
            ok = parts[1] in CROSS_CUTTING_TESTS or os.path.isfile(os.path.join(ROOT,
                                                                                f'{name}.py'))
        else:   # tests/<stage>/test_<module>.py, or test_<stage>.py for the stage as a whole
            stage = parts[1]
            ok = stage in STAGES and (name == stage or os.path.isfile(
                os.path.join(ROOT, 'roadseg', stage, f'{name}.py')))
        if not ok:
            strays.append(path)
    assert not strays
