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

import images
import infer as infer_script
import labels
import painting
import sources
from conftest import ROOT
from scripts import TINY, last_line, run_script, write_tiny_synthetic

NUM_CLASSES = 7


@pytest.fixture(scope='module')
def run(tmp_path_factory):
    """A trained two-checkpoint run: (run directory, data directory)."""
    base = tmp_path_factory.mktemp('infer')
    data_dir = write_tiny_synthetic(base / 'data', num_samples=16)
    run_dir = str(base / 'run')
    result = run_script('main.py', *TINY, '--data-dir', data_dir, '--name', run_dir,
                        '--epochs', '2', '--checkpoint-interval', '1', '--learning-rate', '1e-3')
    assert result.returncode == 0, result.stderr[-3000:]
    return run_dir, data_dir


def photo(width, height, seed):
    """Return a road-ish uint8 BGR photo of the given size."""
    rng = np.random.RandomState(seed)
    image = np.zeros([height, width, 3], np.uint8)
    image[:height // 2] = (200, 150, 90)
    image[height // 2:] = (90, 90, 90)
    return np.clip(image + rng.normal(0, 10, image.shape), 0, 255).astype(np.uint8)


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
    deep = infer('--name', run_dir, '--samples-dir', samples, '--output-dir', output,
                 '--recursive')
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


def validation_files(data_dir):
    """Return the (image, label) paths of the synthetic validation split the run used."""
    source = sources.load_data_source('synthetic')
    source.seed = 0
    source.load_data(data_dir, 0.1)
    return source.valid_files, source.label_colors


def test_evaluate_equals_independent_computation_on_written_masks(run, tmp_path):
    run_dir, data_dir = run
    files, colors = validation_files(data_dir)
    assert len(files) == 2
    samples = tmp_path / 'valid'
    samples.mkdir()
    for image, _ in files:
        shutil.copy(image, samples / os.path.basename(image))
    painted = infer('--name', run_dir, '--samples-dir', samples, '--output-dir', tmp_path / 'out',
                    '--masks')
    assert painted.returncode == 0, painted.stderr[-2000:]
    evaluated = infer('--name', run_dir, '--evaluate', '--output-dir', tmp_path / 'eval')
    assert evaluated.returncode == 0, evaluated.stderr[-2000:]
    result = json.load(open(tmp_path / 'eval' / 'metrics.json'))
    truth, predicted = [], []
    for image, label in files:
        stem = os.path.splitext(os.path.basename(image))[0]
        predicted.append(cv2.imread(str(tmp_path / 'out' / f'{stem}_classes.png'),
                                    cv2.IMREAD_UNCHANGED))
        truth.append(labels.colors_to_class_map(images.read_image(label), colors))
    truth, predicted = np.stack(truth), np.stack(predicted)
    ious = {}
    for c, name in enumerate(result['iou']):
        union = ((truth == c) | (predicted == c)).sum()
        ious[name] = ((truth == c) & (predicted == c)).sum() / union if union else None
    present = [v for v in ious.values() if v is not None]
    assert result['pixel_accuracy'] == pytest.approx((truth == predicted).mean(), abs=1e-12)
    assert result['mean_iou'] == pytest.approx(sum(present) / len(present), abs=1e-12)
    for name, value in ious.items():
        assert result['iou'][name] == (pytest.approx(value, abs=1e-12) if value is not None
                                       else None)
    assert 'max_f' not in result and 'cityscapes' not in result
    assert f'mean IoU {result["mean_iou"]:.4f}' in evaluated.stdout


EXPORT_CHECK = '''
import sys, json, numpy as np, cv2, tensorflow as tf
model = tf.saved_model.load(sys.argv[1])
serve = model.signatures['serving_default']
out = {}
for path in sys.argv[2:]:
    image = cv2.imread(path).astype(np.float32)[None]
    result = serve(images=tf.constant(image))
    probabilities = result['probabilities'].numpy()
    assert probabilities.shape[:3] == image.shape[:3], probabilities.shape
    assert np.allclose(probabilities.sum(-1), 1, atol=1e-4)
    out[path] = result['classes'].numpy()[0].tolist()
print(json.dumps(out))
'''


def test_exported_saved_model_gives_the_class_maps_of_infer(run, tmp_path):
    run_dir, _ = run
    samples = tmp_path / 'photos'
    samples.mkdir()
    paths = []
    for name, (width, height) in {'small.png': (48, 24), 'large.png': (130, 66),
                                  'same.png': (64, 32)}.items():
        cv2.imwrite(str(samples / name), photo(width, height, len(paths)))
        paths.append(str(samples / name))
    exported = tmp_path / 'exported'
    result = infer('--name', run_dir, '--samples-dir', samples, '--output-dir', tmp_path / 'out',
                   '--masks', '--export', exported)
    assert result.returncode == 0, result.stderr[-2000:]
    assert (exported / 'saved_model.pb').is_file()
    check = subprocess.run([sys.executable, '-c', EXPORT_CHECK, str(exported), *paths],
                           capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert check.returncode == 0, check.stderr[-2000:]
    served = json.loads(check.stdout.strip().splitlines()[-1])
    for path in paths:
        stem = os.path.splitext(os.path.basename(path))[0]
        written = cv2.imread(str(tmp_path / 'out' / f'{stem}_classes.png'), cv2.IMREAD_UNCHANGED)
        np.testing.assert_array_equal(np.array(served[path]), written, err_msg=path)


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
