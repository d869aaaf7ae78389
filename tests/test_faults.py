"""Faults a user meets: copied, moved and damaged runs, full disks, files where folders
belong, outputs that would land on inputs, failing data sources, bad command lines. Each
ends with one `[!]` line (or the documented summary), no traceback, and every file that was
there before is still there byte for byte."""
import glob
import hashlib
import os
import shutil
import subprocess
import sys

import cv2
import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from conftest import ROOT
from fixtures import road_photo, write_road_photos_kitti
from scripts import TINY, last_line, run_script, script_command, write_tiny_synthetic

TEST_SOURCES = os.path.join(ROOT, 'tests', 'sources')
FULL_DISK = 400_000          # bytes any one file may reach under the file-size limit


def snapshot(folder):
    """Return {relative path: SHA-256} of every file under `folder`."""
    digests = {}
    for root, _, names in os.walk(folder):
        for name in names:
            path = os.path.join(root, name)
            with open(path, 'rb') as handle:
                digests[os.path.relpath(path, folder)] = hashlib.sha256(handle.read()).digest()
    return digests


def assert_one_problem(result, *fragments, status=1):
    """The script failed with `status`, no traceback, and its last line is the `[!]` line."""
    assert result.returncode == status, result.stdout[-2000:] + result.stderr[-2000:]
    assert 'Traceback' not in result.stderr + result.stdout
    line = last_line(result.stderr)
    assert line.startswith('[!] '), line
    for fragment in fragments:
        assert fragment in line, line
    return line


def checkpoint_names(run_dir):
    """Return the checkpoint prefixes' names in `run_dir`, by step."""
    return sorted((os.path.basename(p)[:-len('.index')]
                   for p in glob.glob(os.path.join(run_dir, 'model-*.index'))),
                  key=lambda name: int(name.split('-')[1]))


@pytest.fixture(scope='module')
def five_checkpoints(tmp_path_factory):
    """A run with five checkpoints (one per epoch) on tiny synthetic data: (run, data)."""
    base = tmp_path_factory.mktemp('faults')
    data_dir = write_tiny_synthetic(base / 'data')
    run_dir = str(base / 'run')
    result = run_script('main.py', *TINY, '--data-dir', data_dir, '--name', run_dir,
                        '--epochs', '5', '--checkpoint-interval', '1')
    assert result.returncode == 0, result.stderr[-3000:]
    return run_dir, data_dir


@pytest.fixture
def run(five_checkpoints, tmp_path):
    """A private copy of the five-checkpoint run: (run directory, data directory)."""
    run_dir, data_dir = five_checkpoints
    copy = str(tmp_path / 'run')
    shutil.copytree(run_dir, copy)
    return copy, data_dir


def write_absolute_state(run_dir):
    """Rewrite the state file with absolute paths, as earlier versions wrote it."""
    names = checkpoint_names(run_dir)
    lines = [f'model_checkpoint_path: "{os.path.join(run_dir, names[-1])}"']
    lines += [f'all_model_checkpoint_paths: "{os.path.join(run_dir, n)}"' for n in names]
    with open(os.path.join(run_dir, 'checkpoint'), 'w') as handle:
        handle.write('\n'.join(lines) + '\n')


def test_a_copied_run_resumes_without_touching_the_original(run, tmp_path):
    original, _ = run
    write_absolute_state(original)
    before = snapshot(original)
    copy = str(tmp_path / 'copy')
    shutil.copytree(original, copy)
    resumed = run_script('main.py', '--name', copy, '--resume', '--epochs', '7')
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert '[i] epoch 7/7' in resumed.stdout
    assert snapshot(original) == before                  # read, rotated, written: nothing
    assert checkpoint_names(copy) == ['model-9', 'model-12', 'model-15', 'model-18', 'model-21']
    assert len(glob.glob(os.path.join(copy, 'tensorboard', 'events.*'))) == 2
    assert int(tf.train.load_variable(tf.train.latest_checkpoint(copy), 'epochs_done')) == 7


def test_a_moved_run_resumes_infers_evaluates_and_exports(run, tmp_path):
    original, _ = run
    write_absolute_state(original)
    moved = str(tmp_path / 'elsewhere' / 'moved')
    shutil.move(original, moved)
    photos = tmp_path / 'photos'
    photos.mkdir()
    cv2.imwrite(str(photos / 'a.png'), road_photo(70, 30, 0))
    inferred = run_script('infer.py', '--name', moved, '--samples-dir', photos, '--output-dir',
                          tmp_path / 'out', '--evaluate', '--export', tmp_path / 'export')
    assert inferred.returncode == 0, inferred.stderr[-3000:]
    assert (tmp_path / 'out' / 'a.png').is_file()
    assert (tmp_path / 'export' / 'saved_model.pb').is_file()
    resumed = run_script('main.py', '--name', moved, '--resume', '--epochs', '6')
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert '[i] epoch 6/6' in resumed.stdout
    assert not os.path.exists(original)


def test_outputs_that_would_land_on_inputs_are_refused(run, tmp_path):
    run_dir, _ = run
    photos = tmp_path / 'photos'
    (photos / 'sub').mkdir(parents=True)
    cv2.imwrite(str(photos / 'a.png'), road_photo(70, 30, 0))
    before = snapshot(photos)
    same = run_script('infer.py', '--name', run_dir, '--samples-dir', photos,
                      '--output-dir', photos)
    assert_one_problem(same, 'would put the outputs among the inputs')
    inside = run_script('infer.py', '--name', run_dir, '--samples-dir', photos,
                        '--output-dir', photos / 'sub', '--recursive')
    assert_one_problem(inside, 'would put the outputs among the inputs')
    upscaled = run_script('upscale.py', photos / 'a.png', photos / 'a.png')
    assert_one_problem(upscaled, 'would overwrite the input')
    assert snapshot(photos) == before


def test_force_that_fails_before_its_first_checkpoint_keeps_the_old_run(run, tmp_path):
    run_dir, _ = run
    before = snapshot(run_dir)
    kitti = write_road_photos_kitti(tmp_path / 'kitti')
    label = os.path.join(kitti, 'training', 'gt_image_2', 'um_road_000003.png')
    data = open(label, 'rb').read()
    with open(label, 'wb') as handle:        # the header reads, the pixels do not
        handle.write(data[:len(data) // 2])
    forced = run_script('main.py', '--data-source', 'kitti', '--data-dir', kitti, '--name',
                        run_dir, '--force', '--vgg-init', 'scratch', '--vgg-width', '0.0625',
                        '--batch-size', '2')
    assert_one_problem(forced, 'cannot decode', 'um_road_000003.png')
    assert snapshot(run_dir) == before
    assert not glob.glob(run_dir + '.replaced-*')


def killed_force_run(run_dir, data_dir):
    """Start `main.py --force` on `run_dir` and SIGKILL it once it has moved the old run
    aside, before its first checkpoint; return the folder the old run was left in."""
    process = subprocess.Popen(script_command('main.py', *TINY, '--data-dir', data_dir,
                                              '--name', run_dir, '--force', '--epochs', '50',
                                              '--checkpoint-interval', '50'),
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                               env=dict(os.environ, PYTHONUNBUFFERED='1'), cwd=ROOT)
    for line in process.stdout:
        if line.startswith('[i] --force: the old run is kept in'):
            break
    process.kill()
    process.wait()
    aside = f'{run_dir}.replaced-{process.pid}'
    assert os.path.isdir(aside)
    return aside


def test_the_next_run_restores_the_old_run_a_killed_force_left_aside(run):
    run_dir, data_dir = run
    before = snapshot(run_dir)
    aside = killed_force_run(run_dir, data_dir)
    assert not checkpoint_names(run_dir)                 # the killed run saved nothing
    resumed = run_script('main.py', '--name', run_dir, '--resume', '--epochs', '6')
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert f'[i] restored {run_dir} from {aside}' in resumed.stdout
    assert '[i] epoch 6/6' in resumed.stdout             # resumed from the old run's epoch 5
    assert not os.path.exists(aside)
    after = snapshot(run_dir)
    kept = [name for name in after if name in before and name.startswith('model-')]
    assert len(kept) >= 8                                # four old checkpoints, two files each
    assert all(after[name] == before[name] for name in kept)


def test_the_next_run_removes_an_old_run_whose_replacement_had_saved(run, tmp_path):
    run_dir, data_dir = run
    dead = subprocess.Popen([sys.executable, '-c', 'pass'])
    dead.wait()
    aside = f'{run_dir}.replaced-{dead.pid}'             # killed while deleting the old run
    shutil.copytree(run_dir, aside)
    leftover = f'{run_dir}.replaced-{dead.pid + 1000000}'   # a killed run's, no checkpoint
    os.makedirs(leftover)
    shutil.copy(os.path.join(run_dir, 'settings.json'), leftover)
    before = snapshot(run_dir)
    resumed = run_script('main.py', '--name', run_dir, '--resume', '--epochs', '5')
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert f'[i] removed {aside}, the run that --force replaced' in resumed.stdout
    assert f'[i] removed {leftover}: left by a stopped --force run' in resumed.stdout
    assert not os.path.exists(aside) and not os.path.exists(leftover)
    assert snapshot(run_dir) == before                   # 5 of 5 epochs: nothing to train


@pytest.mark.parametrize('content,why', [('', 'is empty'),
                                         ('model_checkpoint_path: {{', 'is damaged')])
def test_a_damaged_state_file_is_recognised_and_the_checkpoints_present_used(run, tmp_path,
                                                                             content, why):
    run_dir, _ = run
    with open(os.path.join(run_dir, 'checkpoint'), 'w') as handle:
        handle.write(content)
    photos = tmp_path / 'photos'
    photos.mkdir()
    cv2.imwrite(str(photos / 'a.png'), road_photo(70, 30, 0))
    inferred = run_script('infer.py', '--name', run_dir, '--samples-dir', photos,
                          '--output-dir', tmp_path / 'out')
    assert inferred.returncode == 0, inferred.stderr[-3000:]
    assert (f'the checkpoint state file {os.path.join(run_dir, "checkpoint")} {why}' in
            inferred.stdout)
    assert ('using the checkpoints present: model-3, model-6, model-9, model-12, model-15'
            in inferred.stdout)
    assert 'checkpoint model-15' in inferred.stdout
    resumed = run_script('main.py', '--name', run_dir, '--resume', '--epochs', '6')
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert '[i] epoch 6/6' in resumed.stdout


@pytest.mark.parametrize('suffix', ['.index', '.data-00000-of-00001', '.meta'])
def test_a_truncated_checkpoint_names_the_damage_and_the_newest_intact_one(run, tmp_path,
                                                                           suffix):
    run_dir, _ = run
    damaged = os.path.join(run_dir, 'model-15' + suffix)
    data = open(damaged, 'rb').read()
    with open(damaged, 'wb') as handle:
        handle.write(data[:len(data) // 3])
    before = snapshot(run_dir)
    photos = tmp_path / 'photos'
    photos.mkdir()
    cv2.imwrite(str(photos / 'a.png'), road_photo(70, 30, 0))
    args = ['--name', run_dir, '--samples-dir', photos, '--output-dir', tmp_path / 'out']
    message = ('checkpoint model-15 is damaged', damaged, 'Nothing was deleted',
               'the newest intact checkpoint is model-12 (--checkpoint 3)')
    assert_one_problem(run_script('infer.py', *args), *message)
    chosen = run_script('infer.py', *args, '--checkpoint', '3')
    assert chosen.returncode == 0, chosen.stderr[-3000:]
    resumed = run_script('main.py', '--name', run_dir, '--resume', '--epochs', '6')
    if suffix == '.meta':     # resuming rebuilds the graph: only the values must be intact
        assert resumed.returncode == 0, resumed.stderr[-3000:]
    else:
        assert_one_problem(resumed, *message)
        assert snapshot(run_dir) == before


@pytest.mark.parametrize('width,limit,message', [
    ('0.25', 8_000_000, 'cannot save the checkpoint'),          # 90 MB of values, events fit
    ('0.0625', FULL_DISK, 'cannot write TensorBoard events'),   # the graph alone is 1.4 MB
])
def test_a_full_disk_while_training_leaves_no_partial_output(tmp_path, width, limit, message):
    data_dir = write_tiny_synthetic(tmp_path / 'data')
    run_dir = str(tmp_path / 'run')
    args = [*TINY, '--data-dir', data_dir, '--name', run_dir, '--epochs', '1']
    args[args.index('--vgg-width') + 1] = width
    result = run_script('main.py', *args, file_size_limit=limit)
    assert_one_problem(result, message)
    assert not checkpoint_names(run_dir)
    assert [name for name in os.listdir(run_dir) if name not in ('settings.json',
                                                                 'tensorboard')] == []


def test_a_full_disk_while_painting_or_exporting_leaves_nothing_behind(run, tmp_path):
    run_dir, _ = run
    exported = run_script('infer.py', '--name', run_dir, '--export', tmp_path / 'export',
                          file_size_limit=FULL_DISK)
    assert_one_problem(exported, 'cannot write the export', 'nothing was left behind')
    assert os.listdir(tmp_path) == ['run']
    photos = tmp_path / 'photos'
    photos.mkdir()
    cv2.imwrite(str(photos / 'big.png'), np.random.RandomState(0).randint(
        0, 255, [400, 600, 3], np.uint8))                # about 720 kB as PNG
    painted = run_script('infer.py', '--name', run_dir, '--samples-dir', photos,
                         '--output-dir', tmp_path / 'out', file_size_limit=FULL_DISK)
    assert_one_problem(painted, 'cannot write', 'big.png')
    assert os.listdir(tmp_path / 'out') == []


def test_a_video_cut_short_by_a_full_disk_is_one_line_and_removed(run, tmp_path):
    run_dir, _ = run
    videos = tmp_path / 'videos'
    videos.mkdir()
    writer = cv2.VideoWriter(str(videos / 'drive.avi'), cv2.VideoWriter_fourcc(*'MJPG'),
                             10.0, (320, 192))
    noise = np.random.RandomState(0)
    for _ in range(30):                                  # about 1.6 MB painted: past the limit
        writer.write(noise.randint(0, 255, [192, 320, 3], np.uint8))
    writer.release()
    painted = run_script('infer.py', '--name', run_dir, '--samples-dir', videos,
                         '--output-dir', tmp_path / 'out', file_size_limit=FULL_DISK)
    line = assert_one_problem(painted, 'drive', 'of its 30 frames', 'removed')
    assert 'came out with' in line
    assert [name for _, _, names in os.walk(tmp_path / 'out') for name in names] == []


def test_files_where_folders_belong_are_one_line_each(run, tmp_path):
    run_dir, data_dir = run
    a_file = tmp_path / 'a_file'
    a_file.write_text('mine')
    photos = tmp_path / 'photos'
    photos.mkdir()
    cv2.imwrite(str(photos / 'a.png'), road_photo(70, 30, 0))
    cases = [('main.py', [*TINY, '--data-dir', data_dir, '--name', a_file], '--name'),
             ('infer.py', ['--name', a_file, '--evaluate'], 'is a file'),
             ('infer.py', ['--name', run_dir, '--samples-dir', photos, '--output-dir', a_file],
              '--output-dir'),
             ('infer.py', ['--name', run_dir, '--export', a_file], '--export')]
    for script, args, fragment in cases:
        assert_one_problem(run_script(script, *args), fragment, str(a_file))
    assert a_file.read_text() == 'mine'


def test_a_data_source_that_raises_is_one_line(tmp_path):
    env = dict(os.environ, PYTHONPATH=TEST_SOURCES)
    trained = run_script('main.py', '--data-source', 'vanishing', '--data-dir', tmp_path,
                         '--name', tmp_path / 'run', '--vgg-init', 'scratch', '--vgg-width',
                         '0.0625', env=env)
    assert_one_problem(trained, "data source 'vanishing' failed on its training split",
                       'FileNotFoundError', '0004.png')
    checked = run_script('check_data_source.py', 'vanishing', tmp_path, tmp_path / 'out',
                         '--samples', '0', env=env)
    assert_one_problem(checked, "data source 'vanishing' failed on its training split")


def test_labels_without_a_known_colour_stop_before_training(tmp_path):
    kitti = write_road_photos_kitti(tmp_path / 'kitti')
    for path in glob.glob(os.path.join(kitti, 'training', 'gt_image_2', '*.png')):
        cv2.imwrite(path, np.full((120, 400, 3), (0, 255, 0), np.uint8))
    result = run_script('main.py', '--data-source', 'kitti', '--data-dir', kitti, '--name',
                        tmp_path / 'run', '--vgg-init', 'scratch', '--vgg-width', '0.0625')
    assert_one_problem(result, 'none of the 6 label files', 'holds a colour of this source')
    assert 'epoch' not in result.stdout and not (tmp_path / 'run').exists()


def test_an_image_format_opencv_cannot_write_is_one_line(tmp_path):
    cv2.imwrite(str(tmp_path / 'in.png'), road_photo(20, 10, 0))
    result = run_script('upscale.py', tmp_path / 'in.png', tmp_path / 'out.xyz', '--factor', '2')
    assert_one_problem(result, 'cannot write', 'out.xyz', '.xyz')
    assert sorted(os.listdir(tmp_path)) == ['in.png']


@pytest.mark.parametrize('script,args,fragment', [
    ('infer.py', ['--name', 'r', '--shard', '0/3'], 'K must be between 1 and N'),
    ('infer.py', ['--name', 'r', '--shard', 'x'], 'is not K/N'),
    ('main.py', ['--epochs', 'many'], "invalid int value: 'many'"),
    ('check_data_source.py', [], 'the following arguments are required'),
    ('upscale.py', ['in.png'], 'the following arguments are required'),
])
def test_command_line_errors_end_with_one_problem_line(script, args, fragment):
    assert_one_problem(run_script(script, *args), fragment, status=2)
