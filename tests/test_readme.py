"""The README: its test command is the one CI runs, its code map is complete, and the
project refers to nothing outside itself."""
import os
import re
import subprocess

from conftest import ROOT


def read(path):
    """Return the text of a file in the repository."""
    with open(os.path.join(ROOT, path)) as handle:
        return handle.read()


def test_ci_runs_exactly_the_readme_test_command():
    readme = read('README.md')
    section = readme[readme.index('## Quick start'):]
    command = next(line.strip() for line in section.splitlines() if 'pytest' in line)
    ci_lines = [line.strip() for line in read('.ci/run').splitlines()]
    assert command in ci_lines


def test_code_map_names_every_module_and_nothing_else():
    readme = read('README.md')
    section = readme[readme.index('## How the code is organised'):readme.index('## Tests')]
    listed = set(re.findall(r'`([a-z_0-9]+\.py)`', section))
    modules = {name for name in os.listdir(ROOT) if name.endswith('.py')}
    bench_parts = {name for name in modules if name.startswith('bench_')}
    assert listed | bench_parts == modules   # bench_*.py are named together


def test_the_project_never_points_outside_itself():
    tracked = subprocess.run(['git', 'ls-files'], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.split()
    outside = ('DESIGN' + '.md', '..' + '/shared')   # split, so that this file passes
    for path in tracked:
        if path.endswith(('.py', '.md', '.txt', 'run')):
            text = read(path)
            assert not [name for name in outside if name in text], path
