"""The ONNX and TFLite exports (export_formats.py): each format and quantisation, loaded in a
fresh process by its own runtime without TensorFlow, paints the class maps infer.py paints
with the checkpoint (float: on 99.5% of the pixels or more, int8: 97%), and OpenCV's dnn
module runs the float ONNX model too. Bad requests stop with one line and write nothing.
"""
import importlib.util
import json
import os
import subprocess
import sys

import cv2
import numpy as np
import onnx
import pytest
import tensorflow.compat.v1 as tf

import model_fixtures
from conftest import ROOT
from fcnvgg import fcn8s_head
from roadseg.core.errors import UserError
from roadseg.export import calibration, exported_model, formats, inference_graph
from roadseg.export.exported_prediction import ExportedPredictor
from roadseg.model import checkpoints
from roadseg.train import run_settings
from scripts import run_script

RUN_EXPORTED = os.path.join(ROOT, 'tests', 'programs', 'run_exported.py')
LEGACY_RUNS = os.path.join(ROOT, 'tests', 'legacy', 'runs_6d7777b')
CALIBRATION_IMAGES = 24
# The photos the exports paint: scenes of the data set at the run's size (64x32), enlarged
# and shrunk, so that the resizing on both sides of the network is compared as well.
PHOTO_SIZES = {'same.png': (29, (64, 32)), 'large.png': (30, (130, 66)),
               'small.png': (31, (48, 24))}
# Layer types a float export may hold: no dropout, no random ops, no image patches.
# Pad and Slice: upscale.upsample's zero channel for an odd class count (7 here).
ONNX_OPS = {'Conv', 'ConvTranspose', 'MaxPool', 'Relu', 'Sub', 'Mul', 'Sum', 'Add',
            'Softmax', 'ArgMax', 'Cast', 'Transpose', 'Pad', 'Slice'}


@pytest.fixture(scope='module')
def painted(learned_run, tmp_path_factory):
    """{photo path: the class map infer.py paints with the checkpoint}."""
    run_dir, data_dir = learned_run
    base = tmp_path_factory.mktemp('painted')
    photos, output = base / 'photos', base / 'out'
    photos.mkdir()
    scenes = os.path.join(data_dir, 'scenes-v2-64x32-seed3', 'images')
    paths = []
    for name, (index, size) in PHOTO_SIZES.items():
        scene = cv2.imread(os.path.join(scenes, f'{index:05d}.png'))
        cv2.imwrite(str(photos / name), cv2.resize(scene, size, interpolation=cv2.INTER_AREA))
        paths.append(str(photos / name))
    result = run_script('infer.py', '--name', run_dir, '--samples-dir', photos,
                        '--output-dir', output, '--masks')
    assert result.returncode == 0, result.stderr[-2000:]
    return {path: cv2.imread(str(output / (os.path.splitext(os.path.basename(path))[0]
                                           + '_classes.png')), cv2.IMREAD_UNCHANGED)
            for path in paths}


class Exports(dict):
    """{(format, quantisation): model path} of a run, each exported on first use: the
    tests of this module are spread over the xdist workers, and each worker exports only
    the models its own tests need (five conversions take minutes on a slow CPU)."""

    def __init__(self, checkpoint, settings, base):
        super().__init__()
        self.checkpoint, self.settings, self.base = checkpoint, settings, base

    def __missing__(self, key):
        kind, quantize = key
        self[key] = formats.export_model(self.checkpoint, self.settings,
                                         str(self.base / f'{kind}-{quantize}'), kind, quantize,
                                         calibration_images=CALIBRATION_IMAGES)
        return self[key]


@pytest.fixture(scope='module')
def exports(learned_run, tmp_path_factory):
    """The learned run's Exports, made in this process."""
    run_dir, _ = learned_run
    return Exports(checkpoints.select_checkpoint(run_dir), run_settings.read_settings(run_dir),
                   tmp_path_factory.mktemp('exports'))


def run_exported(model_path, runtime, photos):
    """Run the model on `photos` in a fresh process; return its JSON report."""
    check = subprocess.run([sys.executable, RUN_EXPORTED, model_path, runtime, *photos],
                           capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert check.returncode == 0, check.stderr[-3000:]
    return json.loads(check.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize('kind, quantize, runtime, needed', [
    ('onnx', 'none', 'onnxruntime', 0.995), ('onnx', 'none', 'opencv', 0.995),
    ('onnx', 'int8', 'onnxruntime', 0.97), ('tflite', 'none', 'litert', 0.995),
    ('tflite', 'float16', 'litert', 0.995), ('tflite', 'int8', 'litert', 0.97)])
def test_exported_model_paints_the_class_maps_of_infer(exports, painted, kind, quantize,
                                                       runtime, needed):
    report = run_exported(exports[kind, quantize], runtime, list(painted))
    assert report['tensorflow_imported'] is False   # the runtime alone ran it
    assert report['input_size'] == [64, 32]
    same = total = 0
    for path, expected in painted.items():
        classes = np.array(report['classes'][path])
        assert classes.shape == expected.shape, path
        same += int((classes == expected).sum())
        total += expected.size
    print(f'{kind} {quantize} on {runtime}: {same / total:.2%} of the pixels agree')
    assert same / total >= needed
    # The maps hold several classes: agreement on an all-sky map would prove little.
    assert len(np.unique(np.concatenate([m.ravel() for m in painted.values()]))) >= 4


@pytest.mark.parametrize('kind', ['onnx', 'tflite'])
def test_exported_predictor_paints_as_infer_predictor(exports, painted, kind):
    # prediction.Predictor's interface, as painting and evaluation call it.
    predictor = ExportedPredictor(exported_model.ExportedModel(exports[kind, 'none']),
                                  probability_of=1)
    paths = list(painted)
    prepared = [predictor.prepare(cv2.imread(path)) for path in paths]
    assert all(item.network_input.shape == (32, 64, 3) for item in prepared)
    for path, prediction in zip(paths, predictor.predict(prepared)):
        np.testing.assert_array_equal(prediction.classes, painted[path], err_msg=path)
        assert prediction.network_classes.shape == (32, 64)
        assert prediction.probability.shape == painted[path].shape
        road = prediction.classes == 1
        assert road.any() and (prediction.probability[road] > 1 / 7).all()


def test_float_onnx_export_holds_only_inference_layers(exports):
    model = onnx.load(exports['onnx', 'none'])
    assert {node.op_type for node in model.graph.node} <= ONNX_OPS
    assert model.opset_import[0].version == 13
    assert [i.name for i in model.graph.input] == ['images']
    assert [o.name for o in model.graph.output] == ['probabilities', 'classes']


def test_sidecar_describes_the_model(exports, learned_run):
    settings = run_settings.read_settings(learned_run[0])
    for (kind, quantize), path in exports.items():
        with open(os.path.splitext(path)[0] + '.json') as handle:
            info = json.load(handle)
        assert (info['format'], info['quantize']) == (kind, quantize)
        assert info['input_size'] == [64, 32] == list(settings.image_size)
        assert info['input']['shape'] == [None if kind == 'onnx' else 1, 32, 64, 3]
        assert info['input']['channel_order'] == 'BGR'
        assert info['input']['value_range'] == [0, 255]
        assert info['input']['mean'] == 'subtracted inside the model'
        assert [o['name'] for o in info['outputs']] == ['probabilities', 'classes']
        assert info['outputs'][0]['shape'][1:] == [32, 64, 7]
        assert info['class_names'] == settings.class_names
        assert info['label_colors_bgr'] == {str(k): list(v)
                                            for k, v in settings.label_colors.items()}
        assert info['source_run']['checkpoint'] == 'model-320'
        if quantize == 'int8':
            assert info['quantization']['calibration_images'] == CALIBRATION_IMAGES


def test_legacy_vgg_zip_run_rebuilds_for_export():
    # An older run whose backbone is vgg.zip's imported graph (settings without widths):
    # its variables are matched to VGG16 and the rebuilt graph proven equal to it.
    run_dir = os.path.join(LEGACY_RUNS, 'vggzip')
    settings = run_settings.read_settings(run_dir)
    assert settings.widths is None
    frozen = inference_graph.frozen_inference_graph(checkpoints.select_checkpoint(run_dir),
                                                    settings)
    ops = {node.op for node in frozen.graph_def.node}
    assert frozen.input_size == (576, 160) and frozen.num_classes == 2
    assert not ops & {'ExtractImagePatches', 'RandomUniform', 'Floor', 'VariableV2'}
    assert {'Conv2D', 'Conv2DBackpropInput', 'Softmax', 'ArgMax'} <= ops


def write_imported_vgg_zip_run(run_dir, conv1_size=3):
    """Write a checkpoint as runs on vgg.zip's imported graph have it: the SavedModel's
    graph with anonymous variables (Variable, Variable_1, ...) and the FCN-8s head on it
    (trained values are not needed: random ones prove the matching as well). Return its
    prefix and settings."""
    arrays = model_fixtures.reference_arrays(conv1_size=conv1_size)
    graph = tf.Graph()
    with graph.as_default(), tf.Session(graph=graph) as session:
        model_fixtures.build_reference_vgg16(arrays, 'anonymous')
        layers = [graph.get_tensor_by_name(f'{name}:0')
                  for name in ('layer3_out', 'layer4_out', 'layer7_out')]
        fcn8s_head(layers, 3)
        session.run(tf.global_variables_initializer())
        for variable in tf.global_variables():   # a head that is not all zeros
            if variable.op.name.startswith('fcn8s/score'):
                session.run(variable.assign(tf.random.normal(variable.shape, seed=1)))
        prefix = tf.train.Saver().save(session, os.path.join(run_dir, 'model'), global_step=1)
    settings = run_settings.RunSettings(name=run_dir, image_size=[96, 64], num_classes=3,
                                        label_colors={0: (0, 0, 0), 1: (1, 1, 1),
                                                      2: (2, 2, 2)})
    return prefix, settings


def test_imported_vgg_zip_graph_with_anonymous_variables_rebuilds_for_export(tmp_path):
    # Matched by graph order and shape, as vgg_zip.py matches such a file.
    prefix, settings = write_imported_vgg_zip_run(str(tmp_path))
    frozen = inference_graph.frozen_inference_graph(prefix, settings)
    assert frozen.input_size == (96, 64) and frozen.num_classes == 3
    assert not {node.op for node in frozen.graph_def.node} & {'RandomUniform', 'VariableV2'}


def test_a_backbone_that_is_not_vgg16_is_refused(tmp_path):
    prefix, settings = write_imported_vgg_zip_run(str(tmp_path), conv1_size=5)
    with pytest.raises(UserError, match='its backbone does not match VGG16 \\(conv1_1 has '
                       'weights \\[5, 5, 3, 2\\]'):
        inference_graph.frozen_inference_graph(prefix, settings)


def test_a_rebuilt_graph_that_differs_from_the_checkpoint_is_refused(learned_run,
                                                                     monkeypatch):
    monkeypatch.setattr(inference_graph, 'PROOF_TOLERANCE', -1.0)
    run_dir, _ = learned_run
    with pytest.raises(UserError, match='differs from the checkpoint'):
        inference_graph.frozen_inference_graph(checkpoints.select_checkpoint(run_dir),
                                               run_settings.read_settings(run_dir))


def test_calibration_takes_training_photos_at_the_input_size(learned_run):
    settings = run_settings.read_settings(learned_run[0])
    photos = calibration.calibration_images(settings, 5, (96, 64))
    assert photos.shape == (5, 64, 96, 3) and photos.dtype == np.float32
    assert 0 <= photos.min() and photos.max() <= 255 and photos.std() > 10
    everything = calibration.calibration_images(settings, 1000)
    assert everything.shape == (29, 32, 64, 3)     # the training split, no more


@pytest.mark.parametrize('kind, quantize, scale, message', [
    ('savedmodel', 'int8', None, '--export-format savedmodel does not support --quantize '
     'int8; supported: savedmodel: none; onnx: none, int8; tflite: none, float16, int8'),
    ('onnx', 'float16', None, '--export-format onnx does not support --quantize float16; '
     'supported: savedmodel: none; onnx: none, int8; tflite: none, float16, int8'),
    ('tflite', 'none', 0.5, '--input-scale applies to the savedmodel export: tflite models '
     "take one fixed input size (the run's image size)"),
    ('caffe', 'none', None, "unknown export format 'caffe': use savedmodel, onnx, tflite")])
def test_unsupported_requests_are_one_line(learned_run, tmp_path, kind, quantize, scale,
                                           message):
    run_dir, _ = learned_run
    with pytest.raises(UserError) as raised:
        formats.export_model(checkpoints.select_checkpoint(run_dir),
                             run_settings.read_settings(run_dir), str(tmp_path / 'x'),
                             kind, quantize, input_scale=scale)
    assert str(raised.value) == message
    assert not os.listdir(tmp_path)


def test_an_existing_target_is_refused_and_kept(learned_run, tmp_path):
    run_dir, _ = learned_run
    target = tmp_path / 'exported'
    target.mkdir()
    (target / 'model.onnx').write_bytes(b'mine')
    with pytest.raises(UserError, match=f'--export {target} exists and is not empty'):
        formats.export_model(checkpoints.select_checkpoint(run_dir),
                             run_settings.read_settings(run_dir), str(target), 'onnx')
    assert (target / 'model.onnx').read_bytes() == b'mine'
    assert sorted(os.listdir(tmp_path)) == ['exported']


def test_missing_export_packages_say_what_to_install(learned_run, tmp_path, monkeypatch):
    found = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, 'find_spec',
                        lambda name, *a: None if name == 'tf2onnx' else found(name, *a))
    run_dir, _ = learned_run
    with pytest.raises(UserError) as raised:
        formats.export_model(checkpoints.select_checkpoint(run_dir),
                             run_settings.read_settings(run_dir),
                             str(tmp_path / 'x'), 'onnx', 'int8')
    assert str(raised.value) == ('the onnx export needs tf2onnx, which is not installed: '
                                 'pip install -r requirements-export.txt')


def test_a_failed_conversion_leaves_nothing(learned_run, tmp_path, monkeypatch):
    def fail(frozen, path, *args):
        with open(path, 'wb') as handle:
            handle.write(b'half a model')
        raise UserError('tf2onnx cannot convert the inference graph: ValueError: broken')
    monkeypatch.setattr(formats, 'write_format', fail)
    run_dir, _ = learned_run
    with pytest.raises(UserError, match='cannot convert'):
        formats.export_model(checkpoints.select_checkpoint(run_dir),
                             run_settings.read_settings(run_dir),
                             str(tmp_path / 'exported'), 'onnx')
    assert not os.listdir(tmp_path)


def test_training_and_inference_never_import_the_export_packages():
    code = ('import sys; import main, infer; from roadseg.export import formats, exported_model; '
            "print([m for m in ('tf2onnx', 'onnx', 'onnxruntime', 'ai_edge_litert') "
            'if m in sys.modules])')
    result = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                            timeout=300, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == '[]'


def test_infer_exports_onnx_and_paints_and_evaluates_with_it(learned_run, painted, tmp_path):
    run_dir, _ = learned_run
    export_dir = tmp_path / 'onnx'
    exported = run_script('infer.py', '--name', run_dir, '--export', export_dir,
                          '--export-format', 'onnx')
    assert exported.returncode == 0, exported.stderr[-2000:]
    model = str(export_dir / 'model.onnx')
    assert os.path.isfile(model) and os.path.isfile(export_dir / 'model.json')
    photos = os.path.dirname(next(iter(painted)))
    # Painting needs only the model and its JSON: no run.
    result = run_script('infer.py', '--model', model, '--samples-dir', photos,
                        '--output-dir', tmp_path / 'painted', '--masks')
    assert result.returncode == 0, result.stderr[-2000:]
    same = total = 0
    for path, expected in painted.items():
        stem = os.path.splitext(os.path.basename(path))[0]
        classes = cv2.imread(str(tmp_path / 'painted' / f'{stem}_classes.png'),
                             cv2.IMREAD_UNCHANGED)
        assert os.path.isfile(tmp_path / 'painted' / f'{stem}_colors.png')
        same, total = same + int((classes == expected).sum()), total + expected.size
    assert same / total >= 0.995
    metrics = {}
    for label, flags in (('checkpoint', []), ('model', ['--model', model])):
        scored = run_script('infer.py', '--name', run_dir, '--evaluate', '--output-dir',
                            tmp_path / label, *flags)
        assert scored.returncode == 0, scored.stderr[-2000:]
        with open(tmp_path / label / 'metrics.json') as handle:
            metrics[label] = json.load(handle)
    assert set(metrics['model']) == set(metrics['checkpoint'])
    assert metrics['model']['model'] == 'model.onnx' and metrics['checkpoint']['model'] is None
    assert metrics['model']['checkpoint'] == metrics['checkpoint']['checkpoint']
    for block in ('full_resolution', 'training_size'):
        assert metrics['model'][block]['mean_iou'] == pytest.approx(
            metrics['checkpoint'][block]['mean_iou'], abs=0.01)


@pytest.mark.parametrize('flags, message', [
    (['--model', 'missing.onnx', '--samples-dir', '.', '--output-dir', 'out'],
     'no model file missing.onnx'),
    (['--name', 'RUN', '--samples-dir', '.', '--output-dir', 'out', '--quantize', 'int8'],
     '--export-format and --quantize apply to --export DIR'),
    (['--name', 'RUN', '--export', 'E', '--export-format', 'savedmodel', '--quantize', 'int8'],
     '--export-format savedmodel does not support --quantize int8'),
    (['--model', 'm.onnx', '--evaluate'], '--evaluate with --model needs --name'),
    (['--model', 'm.onnx', '--evaluate', '--name', 'RUN', '--input-scale', '2'],
     '--input-scale applies to the run\'s checkpoint, not to --model'),
    (['--evaluate'], 'give --name RUN'),
])
def test_bad_model_and_export_flags_are_one_line(tmp_path, flags, message):
    result = subprocess.run([sys.executable, os.path.join(ROOT, 'infer.py'), *flags],
                            capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert result.returncode == 1, result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith('[!]')
    assert message in result.stderr and 'Traceback' not in result.stderr


def test_the_docs_opencv_snippet_paints_the_class_maps_of_infer(exports, painted, tmp_path):
    with open(os.path.join(ROOT, 'docs', 'deploying.md')) as handle:
        text = handle.read()
    section = text[text.index('## Painting with OpenCV alone'):]
    snippet = section[section.index('```python') + len('```python'):]
    snippet = snippet[:snippet.index('```')]
    model_dir = os.path.dirname(exports['onnx', 'none'])
    same = total = 0
    for path, expected in painted.items():
        code = (snippet.replace('onnx/model', os.path.join(model_dir, 'model'))
                .replace("'photo.png'", repr(path))
                .replace("'painted.png'", repr(str(tmp_path / 'painted.png'))))
        namespace = {}
        exec(compile(code, 'docs snippet', 'exec'), namespace)   # noqa: S102 - our docs
        assert namespace['classes'].shape == expected.shape
        assert os.path.isfile(tmp_path / 'painted.png')
        same += int((namespace['classes'] == expected).sum())
        total += expected.size
    assert same / total >= 0.98


def bad_model_copy(exports, tmp_path, case):
    """Write the damaged or mismatched model of `case` (and its JSON) under tmp_path; return
    its path."""
    onnx, tflite = exports[('onnx', 'none')], exports[('tflite', 'none')]
    source, name = {'text.onnx': (onnx, 'm.onnx'), 'cut.onnx': (onnx, 'm.onnx'),
                    'text.tflite': (tflite, 'm.tflite'), 'cut.tflite': (tflite, 'm.tflite'),
                    'tflite as onnx': (tflite, 'm.onnx'), 'onnx as tflite': (onnx, 'm.tflite'),
                    'no json': (onnx, 'm.onnx'), 'json classes': (tflite, 'm.tflite'),
                    'json size': (onnx, 'm.onnx')}[case]
    target = str(tmp_path / name)
    with open(source, 'rb') as handle:
        data = handle.read()
    if case.startswith('text'):
        data = b'<html>404 Not Found</html>\n'
    elif case.startswith('cut'):
        data = data[:len(data) // 2]
    with open(target, 'wb') as handle:
        handle.write(data)
    with open(exported_model.sidecar_path(source)) as handle:
        sidecar = json.load(handle)
    sidecar['format'] = exported_model.SUFFIXES[os.path.splitext(name)[1]]
    if case == 'json classes':
        sidecar['num_classes'] += 1
    if case == 'json size':
        sidecar['input_size'] = [sidecar['input_size'][0] * 2, sidecar['input_size'][1]]
    if case != 'no json':
        with open(exported_model.sidecar_path(target), 'w') as handle:
            json.dump(sidecar, handle)
    return target


@pytest.mark.parametrize('case, message', [
    ('text.onnx', 'is not a onnx model that onnxruntime can load'),
    ('cut.onnx', 'is not a onnx model that onnxruntime can load'),
    ('text.tflite', 'is not a TFLite model'),
    ('cut.tflite', 'is not a tflite model that litert can load'),
    ('tflite as onnx', 'is a TFLite model, not ONNX'),
    ('onnx as tflite', 'is not a TFLite model'),
    ('no json', 'cannot read'),
    ('json classes', 'the JSON belongs to another model'),
    ('json size', 'does not run on the 128x32 images'),
])
def test_a_bad_exported_model_is_one_line_and_nothing_is_written(exports, tmp_path, case,
                                                                 message):
    model = bad_model_copy(exports, tmp_path, case)
    photos = tmp_path / 'photos'
    photos.mkdir()
    cv2.imwrite(str(photos / 'a.png'), np.zeros((32, 64, 3), np.uint8))
    result = run_script('infer.py', '--model', model, '--samples-dir', photos,
                        '--output-dir', tmp_path / 'out')
    assert result.returncode == 1, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith('[!]') and message in last and model in last, result.stderr
    assert 'Traceback' not in result.stderr
    assert not os.path.exists(tmp_path / 'out')
