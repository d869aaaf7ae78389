"""vgg.zip's weights loaded into the project's VGG16 (vgg_zip.py): matched by name or by
graph order, proven against the SavedModel's own outputs, and refused with one clear line
(falling back to the imported graph) when the file is a variant that does not fit."""
import os

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from fcnvgg import FCNVGG
from model_fixtures import WIDTH, reference_arrays, write_vgg_zip
from roadseg.model import vgg_zip


def saved_model(tmp_path, **kwargs):
    """Write a test-made vgg.zip; return (SavedModel folder, {variable name: value})."""
    _, values = write_vgg_zip(str(tmp_path), **kwargs)
    return str(tmp_path / 'export' / 'vgg'), values


@pytest.mark.parametrize('naming', ['listing', 'anonymous', 'project'])
def test_weights_load_by_name_or_order_and_reproduce_the_layer_outputs(tmp_path, naming):
    model_dir, values = saved_model(tmp_path, naming=naming)
    arrays = vgg_zip.load_arrays(model_dir)
    for layer, (kernel, bias) in arrays.items():
        np.testing.assert_array_equal(kernel, values[f'{layer}/weights'], err_msg=layer)
        np.testing.assert_array_equal(bias, values[f'{layer}/biases'], err_msg=layer)
    image = vgg_zip.probe_image()
    expected = vgg_zip.savedmodel_outputs(model_dir, image)
    got = vgg_zip.rebuilt_outputs(arrays, image)
    for want, have in zip(expected, got):
        assert np.abs(want).max() > 0
        np.testing.assert_allclose(have, want, rtol=1e-4, atol=1e-4 * np.abs(want).max())


def test_anonymous_variables_follow_the_graph_order_not_sorted_names(tmp_path):
    model_dir, _ = saved_model(tmp_path, naming='anonymous')
    order = vgg_zip.variables_in_graph_order(model_dir)
    assert order[:3] == ['Variable', 'Variable_1', 'Variable_2'] and 'Variable_10' in order
    assert sorted(order) != order      # sorted names would put Variable_10 before Variable_2


def test_a_kernel_altered_after_saving_is_read_from_the_file(tmp_path):
    model_dir, values = saved_model(tmp_path)
    image = vgg_zip.probe_image()
    before = vgg_zip.savedmodel_outputs(model_dir, image)
    altered = values['conv3_1/weights'] * -2.0
    with tf.Graph().as_default() as graph, tf.Session(graph=graph) as session:
        tf.saved_model.loader.load(session, ['vgg16'], model_dir)
        kernel = {v.op.name: v for v in tf.global_variables()}['conv3_1/filter']
        session.run(kernel.assign(altered))
        np.testing.assert_array_equal(session.run(kernel), altered)
        tf.train.Saver().save(session, os.path.join(model_dir, 'variables', 'variables'),
                              write_meta_graph=False, write_state=False)
    arrays = vgg_zip.load_arrays(model_dir)          # proves the load against the file
    np.testing.assert_array_equal(arrays['conv3_1'][0], altered)
    after = vgg_zip.rebuilt_outputs(arrays, image)
    np.testing.assert_allclose(after[0], vgg_zip.savedmodel_outputs(model_dir, image)[0],
                               rtol=1e-4, atol=1e-4 * np.abs(after[0]).max())
    assert np.abs(after[0] - before[0]).max() > 1e-3   # the change is visible: can fail


def test_a_wrong_shape_is_named_and_the_imported_graph_is_used(tmp_path, capsys):
    model_dir, _ = saved_model(tmp_path, arrays=reference_arrays(WIDTH, conv1_size=5))
    with pytest.raises(vgg_zip.VggZipMismatch, match=r'conv1_1 has weights \[5, 5, 3, 2\]'):
        vgg_zip.load_arrays(model_dir)
    with tf.Graph().as_default() as graph, tf.Session(graph=graph) as session:
        model = FCNVGG(session)
        model.build_from_vgg(str(tmp_path), 2)
        assert 'conv1_1/filter' in {v.op.name for v in tf.global_variables()}
        classes = session.run(model.classes, {model.image_input: vgg_zip.probe_image()})
    lines = [line for line in capsys.readouterr().out.splitlines() if 'does not load' in line]
    assert len(lines) == 1 and lines[0].startswith('[i] ') and 'conv1_1' in lines[0]
    assert classes.shape == vgg_zip.PROBE_SHAPE[:3]


def test_outputs_that_differ_are_refused(tmp_path):
    model_dir, _ = saved_model(tmp_path)
    arrays = vgg_zip.read_arrays(model_dir)
    arrays['fc7'] = (arrays['fc7'][0] * 1.01, arrays['fc7'][1])
    with pytest.raises(vgg_zip.VggZipMismatch, match='layer7_out differs .* by a relative'):
        vgg_zip.prove_load(model_dir, arrays)


def test_fcn8s_on_vgg_zip_is_the_projects_own_graph(tmp_path):
    _, values = write_vgg_zip(str(tmp_path))
    with tf.Graph().as_default() as graph, tf.Session(graph=graph) as session:
        model = FCNVGG(session)
        model.build_from_vgg(str(tmp_path), 2)
        variables = {v.op.name: v for v in tf.global_variables()}
        assert 'conv1_1/filter' not in variables                  # nothing imported
        np.testing.assert_array_equal(session.run(variables['fc6/weights']),
                                      values['fc6/weights'])
        ops = {op.type for op in graph.get_operations()}
        assert 'ExtractImagePatches' in ops                        # fc6 as a matrix product
    assert model.widths['fc6'] == values['fc6/weights'].shape[-1]
