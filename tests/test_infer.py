"""infer.py on a run that main.py trained on tiny synthetic data: photos, videos, evaluation,
export and bad input."""
import json
import os
import shutil
import subprocess
import sys

import cv2
import numpy as np
import pytest

import infer as infer_script
from conftest import ROOT
from fixtures import road_photo as photo
from roadseg.data import images
from roadseg.predict import painting
from scripts import last_line, run_script

NUM_CLASSES = 7


@pytest.fixture
def run(trained_run):
    """The session's trained two-checkpoint run: (run directory, data directory)."""
    return trained_run


def infer(*args):
    """Run infer.py; return the completed process."""
    return run_script('infer.py', *args)


def test_photos_of_any_size_keep_their_resolution_and_a_corrupt_file_is_skipped(run, tmp_path):
    run_dir, _ = run
    samples, output = tmp_path / 'photos', tmp_path / 'out'
    samples.mkdir()
    sizes = {'a.png': (100, 50), 'b.jpg': (90, 70), 'c.JPEG': (64, 32), 'd.Png': (33, 17)}
    for index, (name, (width, height)) in enumerate(sizes.items()):
        assert cv2.imwrite(str(samples / name.lower()), photo(width, height, index))
        os.rename(samples / name.lower(), samples / name)
    (samples / 'corrupt.png').write_bytes(b'\x89PNG\r\n\x1a\n broken')
    (samples / 'notes.txt').write_text('not an image')
    result = infer('--name', run_dir, '--samples-dir', samples, '--output-dir', output,
                   '--masks')
    assert result.returncode == 1
    assert 'Traceback' not in result.stderr
    assert '[!] skipping corrupt.png' in result.stderr
    assert '[i] 4 processed, 1 skipped, 0 already done' in result.stdout
    for name, (width, height) in sizes.items():
        overlay = images.read_image(str(output / name))
        assert overlay.shape == (height, width, 3)
        stem = os.path.splitext(name)[0]
        classes = cv2.imread(str(output / f'{stem}_classes.png'), cv2.IMREAD_UNCHANGED)
        colors = cv2.imread(str(output / f'{stem}_colors.png'))
        assert classes.shape == (height, width) and classes.dtype == np.uint8
        assert classes.max() < NUM_CLASSES
        settings = json.load(open(os.path.join(run_dir, 'settings.json')))
        table = np.array([settings['label_colors'][str(c)] for c in range(NUM_CLASSES)])
        np.testing.assert_array_equal(colors, table[classes])
    assert not (output / 'corrupt.png').exists() and not (output / 'notes.txt').exists()
    assert not [n for n in os.listdir(output) if 'part' in n]


def test_recursive_keeps_structure_and_skip_existing_leaves_outputs(run, tmp_path):
    run_dir, _ = run
    samples, output = tmp_path / 'photos', tmp_path / 'out'
    (samples / 'day' / 'one').mkdir(parents=True)
    cv2.imwrite(str(samples / 'top.png'), photo(70, 40, 1))
    cv2.imwrite(str(samples / 'day' / 'one' / 'deep.jpg'), photo(50, 30, 2))
    flat = infer('--name', run_dir, '--samples-dir', samples, '--output-dir', output)
    assert flat.returncode == 0 and os.listdir(output) == ['top.png']
    painted = (output / 'top.png').read_bytes()
    refused = infer('--name', run_dir, '--samples-dir', samples, '--output-dir', output,
                    '--recursive')               # top.png exists: replaced only on request
    assert refused.returncode == 1 and 'Traceback' not in refused.stderr
    assert last_line(refused.stderr).startswith('[!] 1 output(s) already exist')
    assert (output / 'top.png').read_bytes() == painted and os.listdir(output) == ['top.png']
    deep = infer('--name', run_dir, '--samples-dir', samples, '--output-dir', output,
                 '--recursive', '--overwrite')
    assert deep.returncode == 0, deep.stderr[-2000:]
    assert images.read_image(str(output / 'day' / 'one' / 'deep.jpg')).shape == (30, 50, 3)
    (output / 'top.png').write_bytes(b'finished earlier')
    again = infer('--name', run_dir, '--samples-dir', samples, '--output-dir', output,
                  '--recursive', '--skip-existing')
    assert again.returncode == 0
    assert '[i] 0 processed, 0 skipped, 2 already done' in again.stdout
    assert (output / 'top.png').read_bytes() == b'finished earlier'


def test_video_gives_overlay_video_with_same_frames_size_and_rate(run, tmp_path):
    run_dir, _ = run
    video = tmp_path / 'dashcam.avi'
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*'MJPG'), 12.0, (80, 48))
    for index in range(5):
        writer.write(photo(80, 48, index))
    writer.release()
    (tmp_path / 'broken.mp4').write_bytes(b'not a video')
    output = tmp_path / 'out'
    result = infer('--name', run_dir, '--samples-dir', video, '--output-dir', output)
    assert result.returncode == 0, result.stderr[-2000:]
    capture = cv2.VideoCapture(str(output / 'dashcam.avi'))
    frames = 0
    while capture.read()[0]:
        frames += 1
    assert frames == 5
    assert capture.get(cv2.CAP_PROP_FPS) == pytest.approx(12.0)
    assert (capture.get(cv2.CAP_PROP_FRAME_WIDTH), capture.get(cv2.CAP_PROP_FRAME_HEIGHT)) == \
        (80, 48)
    broken = infer('--name', run_dir, '--samples-dir', tmp_path / 'broken.mp4', '--output-dir',
                   output)
    assert broken.returncode == 1 and '[!] skipping broken.mp4' in broken.stderr


def test_bad_input_gives_one_clear_line_each(run, tmp_path):
    run_dir, _ = run
    empty = tmp_path / 'empty'
    empty.mkdir()
    no_checkpoints = tmp_path / 'fresh'
    no_checkpoints.mkdir()
    shutil.copy(os.path.join(run_dir, 'settings.json'), no_checkpoints)
    cases = [
        (['--name', tmp_path / 'missing', '--evaluate'], 'no run directory'),
        (['--name', no_checkpoints, '--evaluate'], 'holds no checkpoint'),
        (['--name', run_dir, '--samples-dir', empty, '--output-dir', tmp_path / 'o'],
         'holds no png'),
        (['--name', run_dir, '--checkpoint', '5', '--evaluate'], '--checkpoint 5 is out of range'),
        (['--name', run_dir, '--checkpoint', '-3', '--evaluate'], 'is out of range'),
        (['--name', run_dir], 'nothing to do'),
    ]
    for args, message in cases:
        result = infer(*args)
        assert result.returncode != 0, args
        assert 'Traceback' not in result.stderr, args
        line = last_line(result.stderr)
        assert line.startswith('[!] ') and message in line, (args, line)


def test_shards_cover_every_input_exactly_once(run, tmp_path):
    items = [f'{i:03d}.png' for i in range(23)]
    for n in (1, 2, 3, 5, 30):
        parts = [painting.shard(items, k, n) for k in range(1, n + 1)]
        assert sorted(sum(parts, [])) == items
        assert max(map(len, parts)) - min(map(len, parts)) <= 1
    assert infer_script.parse_shard('2/4') == (2, 4)
    run_dir, _ = run
    samples = tmp_path / 'photos'
    samples.mkdir()
    for index in range(5):
        cv2.imwrite(str(samples / f'{index}.png'), photo(40, 20, index))
    painted = []
    for k in (1, 2):
        result = infer('--name', run_dir, '--samples-dir', samples, '--output-dir',
                       tmp_path / f'out{k}', '--shard', f'{k}/2')
        assert result.returncode == 0, result.stderr[-2000:]
        painted.append(set(os.listdir(tmp_path / f'out{k}')))
    assert painted[0] | painted[1] == {f'{i}.png' for i in range(5)}
    assert not painted[0] & painted[1]
    bad = infer('--name', run_dir, '--samples-dir', samples, '--output-dir', tmp_path / 'o',
                '--shard', '3/2')
    assert bad.returncode == 2 and 'K must be between 1 and N' in bad.stderr


def test_relative_run_directory(run, tmp_path):
    run_dir, _ = run
    shutil.copytree(run_dir, tmp_path / 'runs' / 'mine')
    (tmp_path / 'photos').mkdir()
    cv2.imwrite(str(tmp_path / 'photos' / 'photo.png'), photo(40, 20, 0))
    for samples, checkpoint in (('photos', '0'), (os.path.join('photos', 'photo.png'), '-1')):
        shutil.rmtree(tmp_path / 'out', ignore_errors=True)
        result = subprocess.run(
            [sys.executable, os.path.join(ROOT, 'infer.py'), '--name',
             os.path.join('runs', 'mine'), '--samples-dir', samples, '--output-dir', 'out',
             '--checkpoint', checkpoint],
            capture_output=True, text=True, timeout=300, cwd=tmp_path)
        assert result.returncode == 0, result.stderr[-2000:]
        assert images.read_image(str(tmp_path / 'out' / 'photo.png')).shape == (20, 40, 3)
