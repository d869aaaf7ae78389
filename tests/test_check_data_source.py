"""check_data_source.py run as a user runs it: exit codes, files written, what it reports."""
import json
import os
import subprocess
import sys

import cv2
import numpy as np
import pytest

import check_data_source
from conftest import ROOT
from fixtures import TEST_SOURCES, source_text, write_kitti, write_my_data

SCRIPT = os.path.join(ROOT, 'check_data_source.py')


def run(*args, extra_path=None):
    """Run the script in a fresh interpreter; returns the completed process."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2')
    if extra_path:
        env['PYTHONPATH'] = str(extra_path)
    return subprocess.run([sys.executable, SCRIPT, *map(str, args)], capture_output=True,
                          text=True, env=env, cwd=ROOT, timeout=120)


def assert_one_problem_line(result, *fragments):
    """Exit 1, no traceback, exactly one `[!]` line on stderr, containing the fragments."""
    assert result.returncode == 1, result.stderr
    assert 'Traceback' not in result.stderr + result.stdout
    problems = [line for line in result.stderr.splitlines() if line.startswith('[!]')]
    assert len(problems) == 1, result.stderr
    for fragment in fragments:
        assert fragment in problems[0], problems[0]


def synthetic_dir(path, samples=10):
    """A data directory for a tiny synthetic data set."""
    path.mkdir()
    (path / 'synthetic.json').write_text(
        json.dumps({'image_size': [64, 32], 'num_samples': samples, 'seed': 1}))
    return path


def test_valid_synthetic_data_passes_and_writes_the_samples(tmp_path):
    result = run('synthetic', synthetic_dir(tmp_path / 'data'), tmp_path / 'out', '--samples', 4)
    assert result.returncode == 0, result.stderr
    written = sorted(os.listdir(tmp_path / 'out'))
    assert len(written) == 4 and all(name.endswith('.png') for name in written)
    for name in written:
        assert cv2.imread(str(tmp_path / 'out' / name)).shape == (32, 64, 3)
    assert '[i] Image size: 64x32' in result.stdout
    assert '[i] Training samples: 9' in result.stdout
    assert '[i] training: 9 samples, 18,432 pixels, 0 bad in 0 samples' in result.stdout
    assert '[i] validation: 1 sample, 2,048 pixels, 0 bad in 0 samples' in result.stdout
    assert result.stdout.rstrip().endswith('[i] All labels are valid')
    assert 'Checking training' in result.stderr and 'Checking validation' in result.stderr


def test_augmentation_flags_show_what_the_network_sees_and_the_check_reads_the_files(
        tmp_path):
    data = synthetic_dir(tmp_path / 'data')
    flags = ['--samples', 3, '--scale-range', '1.5,2', '--crop', '32x32', '--photometric',
             '0.3', '--seed', 4]
    result = run('synthetic', data, tmp_path / 'out', *flags)
    assert result.returncode == 0, result.stderr
    assert '[i] Examples augmented: scale (1.5, 2.0) of the image size, 32x32 windows' \
        in result.stdout
    written = sorted(os.listdir(tmp_path / 'out'))
    assert len(written) == 3
    examples = [cv2.imread(str(tmp_path / 'out' / name)) for name in written]
    assert all(example.shape == (32, 32, 3) for example in examples)
    # The check itself reads the files at the image size, as before.
    assert '[i] training: 9 samples, 18,432 pixels, 0 bad in 0 samples' in result.stdout
    again = run('synthetic', data, tmp_path / 'again', *flags)
    assert again.returncode == 0
    for name, example in zip(written, examples):      # the same seed: the same examples
        np.testing.assert_array_equal(cv2.imread(str(tmp_path / 'again' / name)), example)
    plain = run('synthetic', data, tmp_path / 'plain', '--samples', 3, '--seed', 4)
    assert sorted(os.listdir(tmp_path / 'plain')) == written   # same samples, not augmented
    assert cv2.imread(str(tmp_path / 'plain' / written[0])).shape == (32, 64, 3)


def test_blended_samples_show_the_label_colours(tmp_path):
    write_kitti(tmp_path / 'kitti', count=2)
    result = run('kitti', tmp_path / 'kitti', tmp_path / 'out', '--samples', 5)
    assert result.returncode == 0, result.stderr
    assert '[i] Wrote 1 training samples' in result.stdout  # the other one is for validation
    [name] = os.listdir(tmp_path / 'out')
    index = int(name[:-4].split('_')[-1])  # sample_000_um_00000<index>.png
    image = cv2.imread(str(tmp_path / 'out' / name))
    assert image.shape == (160, 576, 3)
    blue = 10 * index  # the photo is (blue, 100, 200) everywhere
    # Don't-care rows stay the photo; elsewhere half photo, half red (background) on one
    # side and magenta (road) on the other, whichever way the sample was flipped.
    assert image[159, 300].tolist() == [blue, 100, 200]
    corners = sorted([image[10, 0].tolist(), image[10, 575].tolist()])
    assert corners == [[int(np.rint(blue / 2)), 50, 228],
                       [int(np.rint((blue + 255) / 2)), 50, 228]]


def test_kitti_dont_care_pixels_are_counted_apart(tmp_path):
    write_kitti(tmp_path / 'kitti', count=4)
    result = run('kitti', tmp_path / 'kitti', tmp_path / 'out', '--samples', 0)
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / 'out').exists()
    assert "Don't-care pixels (all-zero rows): allowed" in result.stdout
    # Rows 40..49 of each 50-row label are black: rows 128..159 after resizing to 160.
    per_sample = 32 * 576
    assert (f'[i] training: 3 samples, {3 * 160 * 576:,} pixels, 0 bad in 0 samples, '
            f"{3 * per_sample:,} don't care (counted apart)") in result.stdout
    assert f"[i] validation: 1 sample, {160 * 576:,} pixels, 0 bad in 0 samples, " \
           f"{per_sample:,} don't care" in result.stdout


def test_broken_source_fails_naming_samples_counts_and_coordinates(tmp_path):
    result = run('brokenlabels', tmp_path, tmp_path / 'out', '--samples', 2,
                 extra_path=TEST_SOURCES)
    assert result.returncode == 1
    assert 'Traceback' not in result.stderr
    out = result.stdout
    assert ('[!] training sample 1: 3 bad pixels (3 not one-hot) at (5, 2), (9, 2), (0, 30)'
            in out)
    assert '[!] training sample 2: 2 bad pixels (2 all zero) at (63, 0), (1, 31)' in out
    assert '[!] validation sample 0: 1 bad pixel (1 not one-hot) at (4, 4)' in out
    assert 'training sample 0' not in out and 'training sample 3' not in out
    assert '[!] training: 4 samples, 8,192 pixels, 5 bad in 2 samples' in out
    assert '[!] validation: 2 samples, 4,096 pixels, 1 bad in 1 sample' in out
    assert "Don't-care pixels: none allowed" in out
    assert '[!] Some labels are not valid one-hot rows' in out
    assert len(os.listdir(tmp_path / 'out')) == 2


def test_built_in_sources_name_the_label_file_and_unmirror_coordinates(tmp_path):
    # A strict variant of KITTI (unknown colours are errors, not don't care) on KITTI files
    # with an unknown colour at one known pixel: the report names the label file and gives the
    # pixel where it is in the file, whether or not the sample was mirrored for training.
    root = write_kitti(tmp_path / 'kitti', count=6)
    for index in range(6):
        label = np.zeros((32, 64, 3), np.uint8)
        label[:] = (0, 0, 255)
        label[3, 7 + index] = (9, 9, 9)
        cv2.imwrite(str(root / 'training' / 'gt_image_2' / f'um_road_{index:06d}.png'), label)
    result = run('strictkitti', root, tmp_path / 'out', '--samples', 0,
                 extra_path=TEST_SOURCES)
    assert result.returncode == 1
    for index in range(6):
        assert (f'um_road_{index:06d}.png: 1 bad pixel (1 all zero) at ({7 + index}, 3)'
                in result.stdout), result.stdout
    assert '[!] training: 5 samples' in result.stdout


def docs_example_source():
    """Return the docs' example of a new source (docs/data-sources.md, "Adding a data
    source"), at 64x32.

    The example's 512x256 becomes 64x32 so that the check runs in moments (the numbers the
    test asserts are for 64x32); the rest is the docs' text as a user copies it.
    """
    with open(os.path.join(ROOT, 'docs', 'data-sources.md')) as handle:
        text = handle.read()
    section = text[text.index('## Adding a data source'):]
    code = section[section.index('```python\n') + len('```python\n'):]
    code = code[:code.index('```')]
    assert 'class MyData(utils.ImageLabelSource)' in code
    assert '    image_size = (512, 256)\n' in code
    return code.replace('    image_size = (512, 256)\n', '    image_size = (64, 32)\n')


def test_docs_example_source_works(tmp_path):
    (tmp_path / 'source_mydata.py').write_text(docs_example_source())
    write_my_data(tmp_path / 'data', count=10)
    result = run('mydata', tmp_path / 'data', tmp_path / 'out', '--samples', 3,
                 extra_path=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert '[i] training: 9 samples, 18,432 pixels, 0 bad in 0 samples' in result.stdout
    assert len(os.listdir(tmp_path / 'out')) == 3


def test_help_explains_the_interface():
    result = run('--help')
    assert result.returncode == 0
    for word in ('SOURCE', 'DATA_DIR', 'OUTPUT_DIR', '--samples N', 'Exit status'):
        assert word in result.stdout


def test_unknown_source_is_one_line(tmp_path):
    assert_one_problem_line(run('nosuch', tmp_path, tmp_path / 'out'),
                            "unknown data source 'nosuch'", 'available: ', 'kitti')


def test_missing_and_empty_data_directories_are_one_line(tmp_path):
    assert_one_problem_line(run('kitti', tmp_path / 'missing', tmp_path / 'out'),
                            'does not exist', 'data_road.zip')
    (tmp_path / 'empty').mkdir()
    assert_one_problem_line(run('cityscapes', tmp_path / 'empty', tmp_path / 'out'),
                            'no leftImg8bit folder')


def test_image_size_not_multiple_of_32_is_one_line(tmp_path):
    (tmp_path / 'source_oddsize.py').write_text(
        source_text('brokenlabels', 'image_size = (64, 32)', 'image_size = (60, 32)'))
    assert_one_problem_line(run('oddsize', tmp_path, tmp_path / 'out', extra_path=tmp_path),
                            "data source 'oddsize' has image_size (60, 32)", 'multiples of 32')


def test_corrupt_images(tmp_path):
    root = write_kitti(tmp_path / 'kitti', count=3)
    images = root / 'training' / 'image_2'
    (images / 'um_000000.png').write_bytes(b'garbage')  # found when loading: skipped
    truncated = images / 'um_000002.png'
    truncated.write_bytes(truncated.read_bytes()[:60])  # found when decoding: stops the run
    result = run('kitti', root, tmp_path / 'out', '--samples', 0)
    assert result.returncode == 1
    assert 'Traceback' not in result.stderr
    assert result.stderr.splitlines()[0] == ('[!] skipping 1 KITTI Road files that are empty '
                                             'or not images (with their pairs): um_000000.png')
    problems = [line for line in result.stderr.splitlines()[1:] if line.startswith('[!]')]
    assert len(problems) == 1 and 'cannot decode' in problems[0]
    assert problems[0].split()[3].endswith('um_000002.png:')
    assert 'WARN' not in result.stderr and 'libpng' not in result.stderr


def test_wrong_batch_shapes_are_one_line(tmp_path):
    (tmp_path / 'source_badshape.py').write_text(
        source_text('brokenlabels', 'np.zeros((2, 32, 64, 3), np.float32), labels',
                    'np.zeros((2, 32, 64, 3), np.float64), labels'))
    result = run('badshape', tmp_path, tmp_path / 'out', '--samples', 0, extra_path=tmp_path)
    assert_one_problem_line(result, 'validation batches hold images', 'float64',
                            'float32 [2, 32, 64, 3]')


def test_negative_sample_count_is_refused(tmp_path):
    assert_one_problem_line(run('synthetic', tmp_path, tmp_path / 'out', '--samples', -1),
                            '--samples must be 0 or more')


@pytest.mark.parametrize('mirrored, expected', [(False, [(1, 0), (3, 1)]),
                                                (True, [(0, 0), (2, 1)])])
def test_coordinates_of_mirrored_samples_point_into_the_file(mirrored, expected):
    bad = np.zeros((2, 4), dtype=bool)
    bad[0, 1 if not mirrored else 3] = True
    bad[1, 3 if not mirrored else 1] = True
    line = check_data_source.describe_bad_sample('x.png', bad, np.zeros_like(bad), mirrored)
    where = ', '.join(f'({x}, {y})' for x, y in expected)
    assert line == f'[!] x.png: 2 bad pixels (2 not one-hot) at {where}'
