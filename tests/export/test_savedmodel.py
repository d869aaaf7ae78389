"""The exported SavedModel (savedmodel.py): served by TensorFlow 2 alone, it paints the class maps
infer.py paints, at each photo's own size."""
import json
import os
import subprocess
import sys

import cv2
import numpy as np
import pytest

from conftest import ROOT
from fixtures import road_photo as photo
from scripts import run_script

SERVE = os.path.join(ROOT, 'tests', 'programs', 'serve_exported.py')


def infer(*args):
    """Run infer.py; return the completed process."""
    return run_script('infer.py', *args)


@pytest.mark.parametrize('scale', [[], ['--input-scale', '0.75']])
def test_exported_saved_model_gives_the_class_maps_of_infer(trained_run, tmp_path, scale):
    run_dir, _ = trained_run
    samples = tmp_path / 'photos'
    samples.mkdir()
    paths = []
    for name, (width, height) in {'small.png': (48, 24), 'large.png': (130, 66),
                                  'same.png': (64, 32)}.items():
        cv2.imwrite(str(samples / name), photo(width, height, len(paths)))
        paths.append(str(samples / name))
    exported = tmp_path / 'exported'
    result = infer('--name', run_dir, '--samples-dir', samples, '--output-dir', tmp_path / 'out',
                   '--masks', '--export', exported, *scale)
    assert result.returncode == 0, result.stderr[-2000:]
    assert (exported / 'saved_model.pb').is_file()
    check = subprocess.run([sys.executable, SERVE, str(exported), *paths],
                           capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert check.returncode == 0, check.stderr[-2000:]
    served = json.loads(check.stdout.strip().splitlines()[-1])
    for path in paths:
        stem = os.path.splitext(os.path.basename(path))[0]
        written = cv2.imread(str(tmp_path / 'out' / f'{stem}_classes.png'), cv2.IMREAD_UNCHANGED)
        np.testing.assert_array_equal(np.array(served[path]), written, err_msg=path)
