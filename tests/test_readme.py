"""The README's test command is the one CI runs."""
import os

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
