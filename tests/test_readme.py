"""The README and docs/: the test command is the one CI runs, every script command they show
uses flags the script has, and the project refers to nothing outside itself."""
import functools
import glob
import os
import re
import subprocess
import sys

from conftest import ROOT

# The scripts the docs must show at least one command of.
DOCUMENTED_SCRIPTS = {'main.py', 'infer.py', 'check_data_source.py', 'bench.py'}
# `python <script>.py ...` or `.venv/bin/python <script>.py ...`, anywhere in a code line.
SCRIPT_COMMAND = re.compile(r'(?:^|[\s/])python3? ([a-z_0-9]+\.py)\b(.*)')


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


def test_the_project_never_points_outside_itself():
    tracked = subprocess.run(['git', 'ls-files'], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.split()
    outside = ('DESIGN' + '.md', '..' + '/shared')   # split, so that this file passes
    for path in tracked:
        if path.endswith(('.py', '.md', '.txt', 'run')):
            text = read(path)
            assert not [name for name in outside if name in text], path


def code_lines(text):
    """Yield the lines of a Markdown text's code (``` blocks and indented blocks), each line
    that ends with a backslash joined with the lines it continues on."""
    fenced, pending = False, ''
    for line in text.splitlines():
        if line.lstrip().startswith('```'):
            fenced = not fenced
        elif fenced or line.startswith('    ') or pending:
            if line.rstrip().endswith('\\'):
                pending += line.rstrip()[:-1] + ' '
            else:
                yield pending + line
                pending = ''


def script_commands(text):
    """Return (script, [--flag, ...]) for each code line of `text` that runs a script."""
    commands = []
    for line in code_lines(text):
        for part in re.split(r'&&|;|\|', re.split(r'\s#', line)[0]):   # no comments
            match = SCRIPT_COMMAND.search(part)
            if match:
                commands.append((match.group(1), re.findall(r'(?<![\w-])--[a-z][a-z0-9-]*',
                                                            match.group(2))))
    return commands


@functools.lru_cache(maxsize=None)
def help_flags(script):
    """Return the set of --flags that `script --help` prints."""
    result = subprocess.run([sys.executable, script, '--help'], cwd=ROOT, capture_output=True,
                            text=True, timeout=300,
                            env={**os.environ, 'TF_CPP_MIN_LOG_LEVEL': '3'})
    assert result.returncode == 0, result.stderr[-2000:]
    return frozenset(re.findall(r'--[a-z][a-z0-9-]*', result.stdout))


def command_problems(text):
    """Return the scripts `text`'s commands run, and one line per command problem found:
    a script that is not at the root, or a flag its --help does not name."""
    scripts, problems = set(), []
    for script, flags in script_commands(text):
        scripts.add(script)
        if not os.path.isfile(os.path.join(ROOT, script)):
            problems.append(f'{script}: no such script')
        else:
            problems += [f'{script} {flag}' for flag in flags if flag not in help_flags(script)]
    return scripts, problems


def test_every_documented_command_uses_flags_the_script_has():
    paths = ['README.md'] + sorted(os.path.relpath(path, ROOT)
                                   for path in glob.glob(os.path.join(ROOT, 'docs', '*.md')))
    found, problems = set(), []
    for path in paths:
        scripts, wrong = command_problems(read(path))
        found |= scripts
        problems += [f'{path}: {problem}' for problem in wrong]
    assert not problems
    assert DOCUMENTED_SCRIPTS <= found


def test_a_wrong_flag_or_script_is_reported():
    text = 'Run:\n\n    python infer.py --name x --no-such-flag\n\n```\npython nosuch.py\n```\n'
    assert command_problems(text) == ({'infer.py', 'nosuch.py'},
                                      ['infer.py --no-such-flag', 'nosuch.py: no such script'])
