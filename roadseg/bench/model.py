"""The benchmark's model part: FCN-8s inference and training timed against the machine's
matrix-multiply ceiling, its FLOPs counted from the layer shapes, and how often mixed-
precision and fp32 class maps of a trained run agree.
"""
import os

import numpy as np
import tensorflow.compat.v1 as tf

import upscale
from fcnvgg import FCNVGG, initialize_uninitialized_variables
from roadseg.bench.timing import interleaved, session_config, summary
from roadseg.data.labels import labels_to_class_map, one_hot
from roadseg.model import checkpoints, vgg16
from roadseg.model.loss import masked_cross_entropy
from roadseg.score.evaluation import load_validation_source
from roadseg.train import run_settings
from roadseg.train.optimizers import training_step

# ---------------------------------------------------------------------- FLOP counter

def fcn8s_layers(width, height, num_classes, vgg_width=1.0):
    """Return the multiply-add layers of FCN-8s at one input size, from their shapes.

    Each entry: {'name', 'kind', 'input' [h, w, c], 'output' [h, w, c], 'kernel', 'macs'}
    with the multiply-adds per image. Convolutions (stride 1, SAME, fc6 as patches times
    one matrix is the same arithmetic) do out_h * out_w * k * k * c_in * c_out; a transposed
    convolution of stride f scatters every input pixel through a k x k kernel, in_h * in_w *
    k * k * c_in * c_out, with k = 2f - f % 2 as in upscale.py.
    """
    widths = vgg16.vgg16_widths(vgg_width)
    layers = []

    def add(name, kind, h_in, w_in, c_in, h_out, w_out, c_out, kernel, macs):
        layers.append({'name': name, 'kind': kind, 'input': [h_in, w_in, c_in],
                       'output': [h_out, w_out, c_out], 'kernel': kernel, 'macs': int(macs)})

    h, w, c = height, width, 3
    pools = {}
    for block, count in enumerate(vgg16.VGG16_BLOCKS, 1):
        for index in range(1, count + 1):
            name = f'conv{block}_{index}'
            out = widths[name]
            add(name, 'conv', h, w, c, h, w, out, 3, h * w * 9 * c * out)
            c = out
        h, w = -(-h // 2), -(-w // 2)            # max pool 2x2, stride 2, SAME
        pools[block] = (h, w, c)
    size = vgg16.FC6_SIZE
    add('fc6', 'conv', h, w, c, h, w, widths['fc6'], size, h * w * size * size * c * widths['fc6'])
    c = widths['fc6']
    add('fc7', 'conv', h, w, c, h, w, widths['fc7'], 1, h * w * c * widths['fc7'])
    c = widths['fc7']
    sources = {'pool3': pools[3], 'pool4': pools[4], 'fc7': (h, w, c)}
    for name, factor in (('pool3', 8), ('pool4', 16), ('fc7', 32)):
        sh, sw, sc = sources[name]
        add(f'score_{name}', 'conv', sh, sw, sc, sh, sw, num_classes, 1,
            sh * sw * sc * num_classes)
    for name, factor in (('pool3', 8), ('pool4', 16), ('fc7', 32)):
        sh, sw, _ = sources[name]
        k = upscale.kernel_size(factor)
        add(f'upscore_{name}', 'transposed', sh, sw, num_classes, sh * factor, sw * factor,
            num_classes, k, sh * sw * k * k * num_classes * num_classes)
    return layers


def model_flops(width, height, num_classes, vgg_width=1.0):
    """Return FLOPs per image: forward, training step and groups, 2 FLOPs per multiply-add.

    A training step computes the forward pass, every layer's weight gradient (as many
    multiply-adds as its forward pass) and every layer's input gradient except the first
    convolution's, whose input is the image: forward + 2 x forward - conv1_1.
    """
    layers = fcn8s_layers(width, height, num_classes, vgg_width)
    forward = 2 * sum(layer['macs'] for layer in layers)
    first = 2 * layers[0]['macs']
    groups = {'conv1-5': 0, 'fc6': 0, 'fc7': 0, 'head': 0}
    for layer in layers:
        group = layer['name'] if layer['name'] in ('fc6', 'fc7') else \
            'conv1-5' if layer['name'].startswith('conv') else 'head'
        groups[group] += 2 * layer['macs']
    return {'forward': forward, 'training': 3 * forward - first, 'groups': groups,
            'layers': layers}


# ------------------------------------------------------------------ what is timed

def matmul_ceiling_variants(args, precisions):
    """Return ({name: fn} timing square matmuls, {name: (precision, flops)}, sessions).

    fp32: tf.matmul of fp32 variables. bf16: twice, the fp32 matmul under the same oneDNN
    auto-mixed-precision rewrite the model runs with, and a matmul of bf16 variables; the
    better of the two is the ceiling. Only a corner of the product is fetched.
    """
    n = args.matmul_size
    variants, meta, sessions = {}, {}, []
    for name in precisions:
        kinds = [('rewrite', tf.float32)] + ([('direct', tf.bfloat16)] if name == 'bf16' else [])
        for kind, dtype in kinds:
            graph = tf.Graph()
            with graph.as_default():
                a = tf.Variable(tf.cast(tf.random.normal([n, n], seed=1), dtype))
                b = tf.Variable(tf.cast(tf.random.normal([n, n], seed=2), dtype))
                corner = tf.cast(tf.matmul(a, b)[:2, :2], tf.float32)
                session = tf.Session(graph=graph, config=session_config(
                    name if kind == 'rewrite' else 'fp32', args))
                session.run(tf.global_variables_initializer())
            sessions.append(session)
            key = f'matmul {name}' + (f' {kind}' if name == 'bf16' else '')
            variants[key] = (lambda s=session, t=corner: s.run(t))
            meta[key] = (name, 2 * n ** 3)
    return variants, meta, sessions


def model_variants(args, size, precisions, work_dir):
    """Build FCN-8s at `size`; return ({name: fn}, meta, sessions) for its timings.

    Training: one graph with Adam, one session per precision (the rewrite is a session
    option), the same initial values in each; a step runs with dropout as main.py does.
    Inference: the model saved as a checkpoint and restored as infer.py restores it
    (bf16 with its weights kept in bf16), fetching the class map. Inputs are fixed random
    images and labels.
    """
    width, height = size
    checkpoint = os.path.join(work_dir, f'model-{width}x{height}', 'model')
    graph = tf.Graph()
    sessions = {}
    with graph.as_default():
        tf.set_random_seed(0)
        sessions[precisions[0]] = tf.Session(graph=graph,
                                             config=session_config(precisions[0], args))
        model = FCNVGG(sessions[precisions[0]])
        model.build_from_vgg(None, args.classes, backbone='scratch', width=args.vgg_width)
        checkpoint = tf.train.Saver().save(sessions[precisions[0]], checkpoint)
        labels = tf.placeholder(tf.float32, [None, None, None, args.classes], name='labels')
        train_op = training_step(masked_cross_entropy(model.logits, labels), 1e-4)
        initialize_uninitialized_variables(sessions[precisions[0]])   # Adam's slots
        variables = tf.global_variables()
        values = sessions[precisions[0]].run(variables)
        for name in precisions[1:]:
            sessions[name] = tf.Session(graph=graph, config=session_config(name, args))
            feeds = [tf.placeholder(v.dtype.base_dtype, v.shape) for v in variables]
            sessions[name].run([v.assign(f) for v, f in zip(variables, feeds)],
                               dict(zip(feeds, values)))
    del values
    restored = {name: restore_model(checkpoint, name, args) for name in precisions}
    rng = np.random.default_rng(0)
    variants, meta = {}, {}
    for batch in args.batches:
        images = rng.uniform(0, 255, [batch, height, width, 3]).astype(np.float32)
        classes = rng.integers(0, args.classes, [batch, height, width])
        targets = one_hot(classes, args.classes)
        for name in precisions:
            if 'inference' in args.modes:
                session, net = restored[name]
                variants[f'infer {name} b{batch}'] = (
                    lambda s=session, m=net, x=images: s.run(m.classes, {m.image_input: x}))
                meta[f'infer {name} b{batch}'] = ('inference', name, batch)
            if 'training' in args.modes:
                variants[f'train {name} b{batch}'] = (
                    lambda s=sessions[name], x=images, y=targets: s.run(
                        train_op, {model.image_input: x, labels: y, model.keep_prob: 0.5}))
                meta[f'train {name} b{batch}'] = ('training', name, batch)
    return variants, meta, list(sessions.values()) + [s for s, _ in restored.values()]


def restore_model(checkpoint, precision_name, args, bf16_weights=True):
    """Return (session, model) restored from a checkpoint as infer.py restores it."""
    graph = tf.Graph()
    session = tf.Session(graph=graph, config=session_config(precision_name, args))
    model = FCNVGG(session)
    model.build_from_metagraph(checkpoint + '.meta', checkpoint,
                               bf16_weights=bf16_weights and precision_name == 'bf16')
    return session, model


# ---------------------------------------------------------------------- model part

def bench_model(args, precisions, work_dir):
    """Time inference, training and the matmul ceiling at every size; return the rows."""
    results = {'flops': {}, 'ceiling': {}, 'rows': []}
    ceiling_best = {}
    for size in args.sizes:
        label = f'{size[0]}x{size[1]}'
        flops = model_flops(*size, args.classes, args.vgg_width)
        results['flops'][label] = {'forward_gflop': flops['forward'] / 1e9,
                                   'training_gflop': flops['training'] / 1e9,
                                   'groups_gflop': {k: v / 1e9 for k, v in
                                                    flops['groups'].items()}}
        print(f'[i] Model {label}: building and warming up', flush=True)
        variants, meta, sessions = model_variants(args, size, precisions, work_dir)
        matmuls, matmul_meta, matmul_sessions = matmul_ceiling_variants(args, precisions)
        variants.update(matmuls)
        times = interleaved(variants, args, warmup=1, desc=f'model {label}')
        for session in sessions + matmul_sessions:
            session.close()
        for key, (name, work) in matmul_meta.items():
            rate = work / min(times[key]) / 1e9
            results['ceiling'].setdefault(key, []).append(rate)
            ceiling_best[name] = max(ceiling_best.get(name, 0), rate)
        for key, (mode, name, batch) in meta.items():
            work = flops['forward' if mode == 'inference' else 'training'] * batch
            timing = summary(times[key])
            results['rows'].append({'mode': mode, 'size': label, 'batch': batch,
                                    'precision': name,
                                    'ms_per_image': timing['best'] * 1000 / batch,
                                    'ms_per_image_median': timing['median'] * 1000 / batch,
                                    'gflops': work / timing['best'] / 1e9,
                                    'seconds': timing['all']})
    results['ceiling_gflops'] = ceiling_best
    for row in results['rows']:
        row['pct_of_ceiling'] = 100 * row['gflops'] / ceiling_best[row['precision']]
        base = next(r for r in results['rows'] if r['mode'] == row['mode'] and
                    r['size'] == row['size'] and r['batch'] == row['batch'] and
                    r['precision'] == 'fp32')
        row['speedup_vs_fp32'] = base['ms_per_image'] / row['ms_per_image']
    return results


# -------------------------------------------------------------------- agreement

def bench_agreement(args, mixed):
    """Return how often fp32 and mixed-precision class maps agree on a trained run's
    validation images, with each precision's pixel accuracy against the labels."""
    settings = run_settings.read_settings(args.run)
    checkpoint = checkpoints.select_checkpoint(args.run)
    source = load_validation_source(settings)   # as infer.py --evaluate does
    images, truth = [], []
    for batch_images, batch_labels in source.valid_generator(4):
        images += list(batch_images)
        truth += list(labels_to_class_map(batch_labels))
        if len(images) >= args.agreement_images:
            break
    images = np.stack(images[:args.agreement_images])
    truth = np.stack(truth[:args.agreement_images])
    maps = {}
    for name in ('fp32', mixed):
        session, model = restore_model(checkpoint, name, args)
        with session:
            maps[name] = np.concatenate([
                session.run(model.classes, {model.image_input: images[i:i + 4]})
                for i in range(0, len(images), 4)])
    cared = truth >= 0
    return {'run': args.run, 'checkpoint': os.path.basename(checkpoint),
            'images': len(images), 'size': list(images.shape[1:3][::-1]),
            'agreement_pct': 100 * float(np.mean(maps['fp32'] == maps[mixed])),
            'pixel_accuracy_pct': {name: 100 * float(np.mean(m[cared] == truth[cared]))
                                   for name, m in maps.items()}}
