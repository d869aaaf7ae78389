"""bench.py: the FLOP counter, the baselines it times, infer.py's drawing and bf16 weights,
and a --quick run end to end. No timing is asserted: only what the figures rest on."""
import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

import fcnvgg
from roadseg.bench import data as bench_data
from roadseg.bench import inputs as bench_inputs
from roadseg.bench import model as bench_model
from roadseg.bench import vgg_zip as bench_vgg_zip
from roadseg.data import drawing
from roadseg.data.labels import check_one_hot
from roadseg.model import precision, weight_files
from roadseg.predict import painting, prediction
from scripts import run_script


def test_flop_counter_gives_the_issue_figures():
    kitti = bench_model.model_flops(576, 160, 2)
    cityscapes = bench_model.model_flops(512, 256, 2)
    assert kitti['forward'] / 1e9 == pytest.approx(77.9, abs=0.05)
    assert cityscapes['forward'] / 1e9 == pytest.approx(110.8, abs=0.05)
    assert sum(kitti['groups'].values()) == kitti['forward']
    # fc6: a 7x7x512 -> 4096 convolution on the 5x18 map of pool5, 2 FLOPs per multiply-add
    assert kitti['groups']['fc6'] == 2 * 5 * 18 * 7 * 7 * 512 * 4096
    first = 2 * 576 * 160 * 9 * 3 * 64
    assert kitti['training'] == 3 * kitti['forward'] - first


def test_flop_counter_shapes_are_the_built_networks():
    width, height, classes, vgg_width = 96, 64, 3, 0.0625
    layers = bench_model.fcn8s_layers(width, height, classes, vgg_width)
    names = {'conv': '{}/Relu:0', 'score': 'fcn8s/{}/BiasAdd:0', 'upscore': 'fcn8s/{}/output:0'}
    graph = tf.Graph()
    with graph.as_default(), tf.Session(graph=graph) as session:
        model = fcnvgg.FCNVGG(session)
        model.build_from_vgg(None, classes, backbone='scratch', width=vgg_width)
        tensors = [graph.get_tensor_by_name(
            names['score' if layer['name'].startswith('score') else
                  'upscore' if layer['name'].startswith('upscore') else 'conv']
            .format(layer['name'])) for layer in layers]
        outputs = session.run(tensors, {model.image_input: np.zeros([1, height, width, 3],
                                                                    np.float32)})
    assert len(layers) == 13 + 2 + 3 + 3
    for layer, output in zip(layers, outputs):
        assert list(output.shape[1:]) == layer['output'], layer['name']


def test_class_loop_and_vectorised_encoding_agree_on_a_small_label():
    colors, unknown = bench_inputs.cityscapes_colors()
    label = bench_inputs.colour_label(np.random.default_rng(1), (48, 32), colors)
    label[0, :5] = (1, 2, 3)                          # a colour outside the table
    looped = bench_data.encode_by_class_loop(label, colors, unknown)
    vectorised = bench_data.encode_vectorised(label, colors, unknown)
    np.testing.assert_array_equal(looped, vectorised)
    assert looped[0, 0, unknown] == 1 and len(np.unique(looped.argmax(-1))) > 5


def test_pixel_loop_and_vectorised_check_agree_on_a_small_label():
    colors, unknown = bench_inputs.cityscapes_colors()
    label = bench_inputs.colour_label(np.random.default_rng(2), (40, 24), colors)
    labels = bench_data.corrupt(bench_data.encode_vectorised(label, colors, unknown),
                                np.random.default_rng(3), count=30)
    looped = bench_data.check_by_pixel_loop(labels)
    np.testing.assert_array_equal(looped, check_one_hot(labels).bad)
    assert 20 <= looped.sum() <= 30


def test_painter_draws_the_same_pixels_as_the_drawing_helpers():
    colors = {0: (255, 0, 255), 1: (0, 0, 255), 3: (10, 200, 30)}
    rng = np.random.default_rng(4)
    image = rng.integers(0, 256, [75, 131, 3]).astype(np.uint8)
    classes = rng.integers(0, 5, [75, 131]).astype(np.int32)    # 2 and 4 have no colour
    painter = painting.Painter(None, colors)
    colours, overlay = painter.draw(image, prediction.Prediction(classes, classes))
    np.testing.assert_array_equal(colours, drawing.class_map_to_colors(classes, colors))
    np.testing.assert_array_equal(overlay, drawing.blend_labels(image, classes, colors))
    np.testing.assert_array_equal(overlay[classes == 2], image[classes == 2])


@pytest.mark.skipif(precision.resolve('bf16') != 'bf16', reason='no bf16 on this CPU')
def test_bf16_weight_copies_give_the_rewrites_class_maps(tmp_path):
    rng = np.random.default_rng(5)
    images = np.stack([bench_inputs.scene_photo(rng, 96, 64) for _ in range(2)]).astype(np.float32)
    graph = tf.Graph()
    with graph.as_default(), tf.Session(graph=graph) as session:
        tf.set_random_seed(6)
        model = fcnvgg.FCNVGG(session)
        model.build_from_vgg(None, 3, backbone='scratch', width=0.0625)
        for variable in tf.global_variables():
            if '/score_' in variable.name and 'weights' in variable.name:
                session.run(variable.assign(rng.normal(size=variable.shape.as_list())))
        checkpoint = tf.train.Saver().save(session, str(tmp_path / 'model'))
    maps = {}
    for copies in (False, True):
        graph = tf.Graph()
        with graph.as_default(), tf.Session(
                graph=graph, config=precision.session_config('bf16')) as session:
            model = fcnvgg.FCNVGG(session)
            model.build_from_metagraph(checkpoint + '.meta', checkpoint, bf16_weights=copies)
            maps[copies] = session.run(model.classes, {model.image_input: images})
            made = [op.name for op in graph.get_operations()
                    if op.type == 'VarHandleOp' and op.name.startswith('bf16_weights/')]
        assert len(made) == (13 + 2 + 3 + 3 if copies else 0)   # every weight, no bias
    np.testing.assert_array_equal(maps[False], maps[True])
    assert len(np.unique(maps[True])) > 1


@pytest.fixture
def busy_cores():
    """Keep a core busy with another process for the test: one busy core is ten times the
    bench's default quiet limit (0.1 cores), so a bench that waits for quiet cores would
    wait. Not every core: on two cores that would stall the other half of the suite."""
    spinners = [subprocess.Popen([sys.executable, '-c', 'while True: pass'])]
    yield
    for spinner in spinners:
        spinner.kill()
        spinner.wait()


def test_quick_run_writes_every_part_without_waiting_on_a_busy_machine(tmp_path, busy_cores):
    # Not timed (speed is the benchmark's to measure, and CI machines are shared): that
    # --quick never waits for quiet cores is `waited` below; it took 80 s here beside two
    # spinning processes on two cores.
    output = tmp_path / 'bench.json'
    result = run_script('bench.py', '--quick', '--json', output, '--work-dir', tmp_path / 'work')
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.count('--quick is a smoke run') == 2   # at the start, in the report
    assert 'CPU: ' in result.stdout and 'avx512_bf16' in result.stdout
    results = json.loads(output.read_text())
    assert results['smoke'] is True and results['waited'] == 0
    assert {'machine', 'model', 'vggzip', 'infer', 'tta', 'evaluate', 'labels', 'loader',
            'targets'} <= set(results)
    # The tta part: every mode beside plain, with what it cost in network runs.
    runs = {(row['mode'], row['precision']): row['network_runs_per_photo']
            for row in results['tta']}
    assert runs[('plain', 'fp32')] == 1 and runs[('flip', 'fp32')] == 2
    assert runs[('scales + flip', 'fp32')] == 6
    assert runs[('native, windows 128x64', 'fp32')] > 1
    plain_ms = {row['precision']: row['ms_per_photo'] for row in results['tta']
                if row['mode'] == 'plain'}
    for row in results['tta']:
        assert row['ms_per_photo'] > 0
        assert row['vs_plain'] == pytest.approx(row['ms_per_photo'] / plain_ms[row['precision']])
    assert 'test-time mode' in result.stdout
    # The evaluate part: both evaluations timed per precision; its target is their ratio.
    for row in results['evaluate']:
        assert row['training_size_ms'] > 0 and row['full_resolution_ms'] > 0
        assert row['relative_speed'] == pytest.approx(row['training_size_ms'] /
                                                      row['full_resolution_ms'])
    target = next(t for t in results['targets'] if t['key'] == 'evaluate_relative_speed')
    assert target['value'] == pytest.approx(min(r['relative_speed']
                                                for r in results['evaluate']))
    # The vgg.zip part: both graphs timed for each mode, precision and batch.
    seen = {(row['mode'], row['precision'], row['batch']) for row in results['vggzip']}
    assert {('inference', 'fp32', 1), ('inference', 'fp32', 2), ('training', 'fp32', 2)} <= seen
    for row in results['vggzip']:
        assert row['size'] == '128x64'
        assert row['imported_ms'] > 0 and row['project_ms'] > 0
        assert row['speedup'] == pytest.approx(row['imported_ms'] / row['project_ms'])
    # Its training target is the worst speedup over the fp32 training rows.
    fp32_training = [row['speedup'] for row in results['vggzip']
                     if (row['mode'], row['precision']) == ('training', 'fp32')]
    target = next(t for t in results['targets'] if t['key'] == 'vggzip_training_fp32')
    assert target['value'] == pytest.approx(min(fp32_training))
    assert target['threshold'] == 1.15 and target['met'] == (min(fp32_training) >= 1.15)
    assert 'vgg.zip backbone' in result.stdout
    model = results['model']
    assert model['flops']['128x64']['forward_gflop'] > 0
    assert all(value > 0 for value in model['ceiling_gflops'].values())
    modes = {(row['mode'], row['precision'], row['batch']) for row in model['rows']}
    assert {('inference', 'fp32', 1), ('training', 'fp32', 2)} <= modes
    for row in model['rows']:
        assert row['ms_per_image'] > 0 and row['gflops'] > 0 and row['pct_of_ceiling'] > 0
    for row in results['infer']:
        assert row['outputs_identical']
        assert min(row['pipeline_images_per_s'], row['sequential_images_per_s'],
                   row['network_images_per_s']) > 0
    labels = results['labels']
    assert labels['encode_identical'] and labels['check_identical']
    assert min(labels['ms_per_image'].values()) > 0
    assert min(results['loader']['images_per_s'].values()) > 0
    assert set(results['loader']['images_per_s']) == {'threaded', 'one thread',
                                                      'threaded, augmented'}
    assert 'augmented (scale 1-4, 512x256 crops, photometric 0.2)' in result.stdout
    exports = {row['variant']: row for row in results['exports']}
    tensorflow = {f'tensorflow {name}' for name in results['precisions']}
    assert set(exports) == tensorflow | {
        'onnx none onnxruntime', 'onnx none opencv', 'onnx int8 onnxruntime',
        'tflite none litert', 'tflite float16 litert', 'tflite int8 litert'}
    assert exports['tensorflow fp32']['agreement_pct'] == 100
    assert exports['onnx none onnxruntime']['agreement_pct'] > 99
    assert all(row['ms_per_image'] > 0 and not row['trained_run'] for row in exports.values())
    assert 'Exports, batch 1, ms/image' in result.stdout
    assert {target['key'] for target in results['targets']} >= {
        'encode_speedup', 'check_speedup', 'vggzip_training_fp32'}
    assert os.path.isdir(tmp_path / 'work')
    assert results['samples'] and 'Timed runs:' in result.stdout


def test_fc6_and_fc7_as_convolutions_give_the_matrix_products_outputs():
    widths = bench_vgg_zip.vgg16.vgg16_widths(1 / 32)
    image = np.random.RandomState(3).uniform(0, 255, [1, 64, 96, 3]).astype(np.float32)
    outputs = []
    for by_matmul in (True, False):
        with tf.Graph().as_default() as graph, tf.Session(graph=graph) as session:
            tf.set_random_seed(0)
            layers, _ = bench_vgg_zip.vgg16.build_vgg16(widths, fc_by_matmul=by_matmul)
            session.run(tf.global_variables_initializer())
            outputs.append(session.run(layers[2], {'image_input:0': image}))
            kinds = {op.type for op in graph.get_operations()}
            assert ('ExtractImagePatches' in kinds) == by_matmul
    assert np.abs(outputs[0]).max() > 0
    np.testing.assert_allclose(outputs[1], outputs[0], rtol=1e-4,
                               atol=1e-4 * np.abs(outputs[0]).max())


def test_the_benchs_vgg_zip_keeps_the_real_files_variables_and_bf16_copies(tmp_path):
    # The real vgg.zip has reference variables, of which infer.py makes no bf16 copies:
    # restored as infer.py restores it, the imported graph gets copies of its FCN-8s head
    # only (3 score and 3 upscore kernels), the project's graph of every weight.
    args = argparse.Namespace(classes=2, intra_threads=0, inter_threads=0)
    vgg_dir = bench_vgg_zip.write_plain_vgg_zip(str(tmp_path / 'vgg'), 1 / 32)
    with tf.Graph().as_default() as graph, tf.Session(graph=graph) as session:
        tf.saved_model.loader.load(session, ['vgg16'], weight_files.savedmodel_dir(vgg_dir))
        assert {op.type for op in graph.get_operations() if 'Var' in op.type} == {'VariableV2'}
    for kind, copies in (('imported', 3 + 3), ('project', 13 + 2 + 3 + 3)):
        checkpoint = bench_vgg_zip.saved_checkpoint(kind, vgg_dir, str(tmp_path), args)
        session, _ = bench_model.restore_model(checkpoint, 'bf16', args)
        made = [op.name for op in session.graph.get_operations()
                if op.type == 'VarHandleOp' and op.name.startswith('bf16_weights/')]
        session.close()
        assert len(made) == copies, kind


def test_a_spent_waiting_budget_times_busy_runs_instead_of_repeating_them():
    from roadseg.bench import timing
    args = argparse.Namespace(repeats=2, quiet_wait=30.0, quiet_budget=5.0, waited=0.0,
                              quiet_limit=0.1)
    assert timing.still_pending([], [1.0, 1.1], args)        # budget left: repeat
    assert not timing.still_pending([1.0, 1.1], [], args)    # enough undisturbed runs
    args.waited = 5.0
    assert not timing.still_pending([], [1.0, 1.1], args)    # spent: busy runs count
    assert timing.still_pending([1.0], [], args)             # but each still runs --repeats
    started = time.monotonic()
    timing.wait_for_quiet(args)
    assert time.monotonic() - started < 0.1 and args.waited == 5.0
