#!/usr/bin/env python3
"""Benchmark: how fast the model trains and paints, against the straightforward way and
against the machine's own limit, measured side by side in one run.

    python bench.py                          # the full benchmark (see README, "Performance")
    python bench.py --quick                  # a smoke run in well under a minute
    python bench.py --run runs/synthetic     # also: bf16 vs fp32 class maps of a trained run

Parts (choose with --parts):

* model: inference and training ms/image of FCN-8s (full-width VGG16 unless --vgg-width) at
  each --sizes and --batches, in fp32 and in the mixed precision the hardware supports; the
  FLOPs per image from the layer shapes, the achieved GFLOP/s and its percentage of the
  matrix-multiply ceiling measured in the same rounds; with --run, how often bf16 and fp32
  class maps agree on a trained checkpoint.
* infer: infer.py's painting (read, resize, infer, draw, write, overlapped; as infer.py
  sets it up) on a folder of camera-sized PNGs, against a plain sequential loop with the
  project's helpers and its own plainly restored session; and the network alone on the
  same batches, which no painting can beat ("bound": network / sequential).
* labels: encoding colour labels to one-hot against a loop over classes, and checking
  one-hot rows against a loop over pixels (as the original checker did).
* loader: images/s delivered by the threaded batch loader against one thread.

Every variant of a part runs in the same rounds, one after the other, and each figure is the
best of --repeats runs. The machine may be shared: each timed run waits for other
processes to go idle, and a run during which they (or the virtual machine's host) kept more
than --quiet-limit cores busy is set aside and repeated. Ratios compare figures of the same
run. Results go to stdout as a table and to --json as numbers.
"""
import os
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')  # TensorFlow's C++ start-up notes
import argparse
import json
import platform
import shutil
import statistics
import tempfile
import time

import cv2
import numpy as np
from tqdm import tqdm

import utils

PARTS = ('model', 'infer', 'labels', 'loader')
CITYSCAPES_LABEL = (2048, 1024)   # size of the Cityscapes files the loader part reads
# Camera frames of the data sets whose network sizes the benchmark uses: the photos painted.
CAMERA_FRAMES = {(576, 160): (1242, 375), (512, 256): (2048, 1024)}

# The targets: (key, description, threshold). The measured value is looked up by key.
TARGETS = [
    ('fp32_inference_pct', 'fp32 inference, % of the fp32 matmul ceiling', 85.0),
    ('mixed_inference_speedup_b4', 'mixed-precision inference vs fp32, batch 4', 1.8),
    ('mixed_inference_speedup_b1', 'mixed-precision inference vs fp32, batch 1', 1.6),
    ('mixed_agreement_pct', 'mixed-precision class maps agreeing with fp32, % (trained run)',
     99.0),
    ('fp32_training_pct', 'fp32 training step, % of the fp32 matmul ceiling', 65.0),
    ('mixed_training_speedup_b4', 'mixed-precision training vs fp32, batch 4', 1.7),
    ('mixed_training_speedup_b1', 'mixed-precision training vs fp32, batch 1', 1.7),
    ('infer_speedup', 'infer.py painting vs the sequential loop', 1.3),
    ('encode_speedup', 'label encoding vs the loop over classes', 10.0),
    ('check_speedup', 'one-hot checking vs the loop over pixels', 100.0),
]


# ------------------------------------------------------------------------ arguments

def parse_size(text):
    """Return (width, height) from 'WxH'."""
    try:
        width, height = (int(v) for v in text.lower().split('x'))
    except ValueError:
        raise argparse.ArgumentTypeError(f'{text!r} is not WIDTHxHEIGHT, e.g. 576x160') from None
    if width < 1 or height < 1:
        raise argparse.ArgumentTypeError(f'{text!r}: both sides must be positive')
    return width, height


def parse_list(kind):
    """Return an argparse type for comma-separated values of `kind`."""
    def parse(text):
        return [kind(item) for item in text.split(',') if item.strip()]
    return parse


def parse_args(argv=None):
    """Return the command line arguments, with --quick's smaller defaults filled in."""
    parser = argparse.ArgumentParser(
        description='Benchmark the model, infer.py, label handling and the batch loader.',
        epilog='Defaults are the full benchmark; --quick shrinks every part (narrow network, '
               'small sizes, one round) to check that the script works.')
    add = parser.add_argument
    add('--quick', action='store_true', help='a smoke run: narrow network, small inputs')
    add('--parts', type=parse_list(str), default=list(PARTS),
        help=f'comma-separated parts to run (default: {",".join(PARTS)})')
    add('--json', default='bench.json', help='where the results go (default bench.json)')
    add('--repeats', type=int, help='timed rounds per measurement; the best counts '
        '(default 3; --quick 1)')
    add('--quiet-limit', type=float, default=0.1, help='a timed run during which other '
        'processes kept more than this many cores busy is set aside and run again '
        '(default 0.1)')
    add('--quiet-wait', type=float, default=30.0, help='seconds each timed run may wait '
        'for other processes to go idle (default 30)')
    add('--max-rounds', type=int, help='rounds at most, to collect --repeats undisturbed '
        'runs of each variant (default 3 x --repeats)')
    add('--sizes', type=parse_list(parse_size), help='model input sizes WxH (default '
        '576x160,512x256: KITTI and Cityscapes; --quick 128x64)')
    add('--batches', type=parse_list(int), help='batch sizes (default 1,4; --quick 1,2)')
    add('--precisions', type=parse_list(str), help='precisions to compare (default fp32 and '
        'the mixed precision this machine supports)')
    add('--modes', type=parse_list(str), default=['inference', 'training'],
        help='model part: inference, training or both (default both)')
    add('--vgg-width', type=float, help='width multiplier of VGG16 (default 1.0, the full '
        'network; --quick 0.0625)')
    add('--classes', type=int, default=2, help='number of classes (default 2, as KITTI road)')
    add('--matmul-size', type=int, help='side of the square matrices of the ceiling '
        '(default 4096; --quick 512)')
    add('--intra-threads', type=int, default=0, help='TensorFlow intra-op threads (default '
        '0: TensorFlow chooses, as the scripts do)')
    add('--inter-threads', type=int, default=0, help='TensorFlow inter-op threads (default '
        '0: TensorFlow chooses, as the scripts do)')
    add('--run', help='a trained run directory (main.py --name): measure how often mixed-'
        'precision and fp32 class maps agree on its validation images')
    add('--agreement-images', type=int, default=32, help='validation images for the '
        'agreement (default 32)')
    add('--photos', type=int, help='photos painted per network size by the infer part '
        '(default 16; --quick 4)')
    add('--photo-size', type=parse_size, help='size of those photos (default: the camera '
        'frames of the data set with that network size, 1242x375 for KITTI 576x160 and '
        '2048x1024 for Cityscapes 512x256; four times the network size otherwise)')
    add('--infer-batch', type=int, default=4, help='batch size of the infer part (default 4, '
        "infer.py's default)")
    add('--label-images', type=int, help='labels encoded and checked (default 8; --quick 2)')
    add('--check-loop-images', type=int, help='labels checked by the slow per-pixel loop '
        '(default 2; --quick 1)')
    add('--label-size', type=parse_size, default=(512, 256), help='label size (default '
        '512x256, the Cityscapes source)')
    add('--loader-images', type=int, help='Cityscapes-style samples loaded (default 32; '
        '--quick 4)')
    add('--loader-file-size', type=parse_size, help='size of their files (default 2048x1024 '
        'as Cityscapes; --quick 512x256)')
    add('--work-dir', help='where generated files go (default: a temporary folder, removed '
        'at the end)')
    args = parser.parse_args(argv)
    quick = args.quick
    defaults = {'repeats': 1 if quick else 3,
                'sizes': [(128, 64)] if quick else [(576, 160), (512, 256)],
                'batches': [1, 2] if quick else [1, 4],
                'vgg_width': 0.0625 if quick else 1.0,
                'matmul_size': 512 if quick else 4096,
                'photos': 4 if quick else 16,
                'label_images': 2 if quick else 8,
                'check_loop_images': 1 if quick else 2,
                'loader_images': 4 if quick else 32,
                'loader_file_size': (512, 256) if quick else CITYSCAPES_LABEL}
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    return args


def validate_args(args):
    """Raise `UserError` for values the benchmark cannot use."""
    unknown = [part for part in args.parts if part not in PARTS]
    if unknown or not args.parts:
        raise utils.UserError(f'--parts: unknown {", ".join(unknown) or "(none given)"}; '
                              f'choose from {", ".join(PARTS)}')
    for key in ('repeats', 'classes', 'matmul_size', 'photos', 'infer_batch', 'label_images',
                'check_loop_images', 'loader_images', 'agreement_images'):
        if getattr(args, key) < 1:
            raise utils.UserError(f'--{key.replace("_", "-")} must be at least 1')
    if not args.batches or min(args.batches) < 1:
        raise utils.UserError('--batches must be positive integers')
    for width, height in args.sizes:
        utils.check_image_size((width, height), f'--sizes {width}x{height}')
    if not 0 < args.vgg_width <= 4:
        raise utils.UserError('--vgg-width must be in (0, 4]')
    if args.check_loop_images > args.label_images:
        args.check_loop_images = args.label_images


# --------------------------------------------------------------------------- machine

def machine_info():
    """Return what the figures depend on: CPU model, cores, its bf16/AMX flags, versions."""
    import precision
    import tensorflow as tf2
    model = platform.processor() or 'unknown CPU'
    try:
        with open('/proc/cpuinfo') as handle:
            for line in handle:
                if line.startswith('model name'):
                    model = line.split(':', 1)[1].strip()
                    break
    except OSError:
        pass
    flags = precision.cpu_flags()
    shown = ('avx512f', 'avx512_bf16', 'amx_bf16', 'amx_tile', 'avx512_fp16')
    return {'cpu': model, 'cores': os.cpu_count(),
            'flags': {flag: flag in flags for flag in shown},
            'gpu': precision.has_gpu(),
            'tensorflow': tf2.__version__,
            'onednn': os.environ.get('TF_ENABLE_ONEDNN_OPTS', '1') != '0',
            'python': platform.python_version(), 'numpy': np.__version__,
            'opencv': cv2.__version__,
            'load_average_start': list(os.getloadavg())}


def mixed_precision(info):
    """Return the mixed precision this machine supports ('bf16', 'fp16') or None."""
    import precision
    if info['gpu']:
        return 'fp16'
    if set(precision.BF16_CPU_FLAGS) & {f for f, on in info['flags'].items() if on}:
        return 'bf16'
    return None


def session_config(precision_name, args):
    """Return the project's ConfigProto for a precision, with the benchmark's threads."""
    import precision
    config = precision.session_config(precision_name)
    if args.intra_threads:
        config.intra_op_parallelism_threads = args.intra_threads
    if args.inter_threads:
        config.inter_op_parallelism_threads = args.inter_threads
    return config


# --------------------------------------------------------------------------- timing

def cpu_counters():
    """Return (busy CPU seconds of the whole machine, of this process), or None off Linux.

    The machine's count includes steal time: a virtual machine's host running others.
    """
    try:
        with open('/proc/stat') as handle:
            values = [int(v) for v in handle.readline().split()[1:9]]
    except (OSError, ValueError):
        return None
    user, nice, system, _, _, irq, softirq, steal = values + [0] * (8 - len(values))
    ticks = os.sysconf('SC_CLK_TCK')
    own = os.times()
    return (user + nice + system + irq + softirq + steal) / ticks, own.user + own.system


def others_busy(before, after, seconds):
    """Return the cores other processes kept busy on average between two cpu_counters()."""
    if before is None or after is None or seconds <= 0:
        return 0.0
    return max(0.0, (after[0] - before[0]) - (after[1] - before[1])) / seconds


def wait_for_quiet(args, window=0.25):
    """Wait, up to --quiet-wait seconds, for a moment when other processes are idle."""
    deadline = time.monotonic() + args.quiet_wait
    while time.monotonic() < deadline:
        before = cpu_counters()
        time.sleep(window)
        if others_busy(before, cpu_counters(), window) <= args.quiet_limit:
            return


def interleaved(variants, args, warmup=1, desc='rounds'):
    """Time each callable of {name: fn} in rounds, every variant once per round.

    Each runs `warmup` untimed times first (graph optimisation, kernel set-up). Each
    timed run waits for a quiet moment first (up to --quiet-wait seconds); a run during
    which other processes (or the host, as steal time) still kept more than --quiet-limit
    cores busy on average is set aside, and the variant runs again in a later round, up to
    --max-rounds rounds. Returns {name: [seconds]}: the undisturbed
    samples, or all of them when none was. What was set aside goes to args.samples_log.
    """
    for fn in variants.values():
        for _ in range(warmup):
            fn()
    clean = {name: [] for name in variants}
    disturbed = {name: [] for name in variants}
    max_rounds = args.max_rounds or 3 * args.repeats
    with tqdm(total=args.repeats * len(variants), desc=desc, unit='run', leave=False) as bar:
        for _ in range(max_rounds):
            pending = [name for name in variants if len(clean[name]) < args.repeats]
            if not pending:
                break
            for name in pending:
                wait_for_quiet(args)
                before = cpu_counters()
                started = time.perf_counter()
                variants[name]()
                seconds = time.perf_counter() - started
                after = cpu_counters()
                if others_busy(before, after, seconds) * seconds > \
                        max(args.quiet_limit * seconds, 0.03):
                    disturbed[name].append(seconds)
                else:
                    clean[name].append(seconds)
                    bar.update(1)
    args.samples_log.append({'part': desc, 'clean': {k: len(v) for k, v in clean.items()},
                             'set_aside': {k: len(v) for k, v in disturbed.items()}})
    return {name: clean[name] or disturbed[name] for name in variants}


def summary(seconds):
    """Return {'best', 'median', 'all'} of a list of seconds."""
    return {'best': min(seconds), 'median': statistics.median(seconds), 'all': seconds}


# ---------------------------------------------------------------------- FLOP counter

def fcn8s_layers(width, height, num_classes, vgg_width=1.0):
    """Return the multiply-add layers of FCN-8s at one input size, from their shapes.

    Each entry: {'name', 'kind', 'input' [h, w, c], 'output' [h, w, c], 'kernel', 'macs'}
    with the multiply-adds per image. Convolutions (stride 1, SAME, fc6 as patches times
    one matrix is the same arithmetic) do out_h * out_w * k * k * c_in * c_out; a transposed
    convolution of stride f scatters every input pixel through a k x k kernel, in_h * in_w *
    k * k * c_in * c_out, with k = 2f - f % 2 as in upscale.py.
    """
    import fcnvgg
    import upscale
    widths = fcnvgg.vgg16_widths(vgg_width)
    layers = []

    def add(name, kind, h_in, w_in, c_in, h_out, w_out, c_out, kernel, macs):
        layers.append({'name': name, 'kind': kind, 'input': [h_in, w_in, c_in],
                       'output': [h_out, w_out, c_out], 'kernel': kernel, 'macs': int(macs)})

    h, w, c = height, width, 3
    pools = {}
    for block, count in enumerate(fcnvgg.VGG16_BLOCKS, 1):
        for index in range(1, count + 1):
            name = f'conv{block}_{index}'
            out = widths[name]
            add(name, 'conv', h, w, c, h, w, out, 3, h * w * 9 * c * out)
            c = out
        h, w = -(-h // 2), -(-w // 2)            # max pool 2x2, stride 2, SAME
        pools[block] = (h, w, c)
    size = fcnvgg.FC6_SIZE
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


# ---------------------------------------------------------------------- model part

def matmul_ceiling_variants(args, precisions):
    """Return ({name: fn} timing square matmuls, {name: (precision, flops)}, sessions).

    fp32: tf.matmul of fp32 variables. bf16: twice, the fp32 matmul under the same oneDNN
    auto-mixed-precision rewrite the model runs with, and a matmul of bf16 variables; the
    better of the two is the ceiling. Only a corner of the product is fetched.
    """
    import tensorflow.compat.v1 as tf
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
    import tensorflow.compat.v1 as tf
    import fcnvgg
    width, height = size
    checkpoint = os.path.join(work_dir, f'model-{width}x{height}', 'model')
    graph = tf.Graph()
    sessions = {}
    with graph.as_default():
        tf.set_random_seed(0)
        sessions[precisions[0]] = tf.Session(graph=graph,
                                             config=session_config(precisions[0], args))
        model = fcnvgg.FCNVGG(sessions[precisions[0]])
        model.build_from_vgg(None, args.classes, backbone='scratch', width=args.vgg_width)
        checkpoint = tf.train.Saver().save(sessions[precisions[0]], checkpoint)
        labels = tf.placeholder(tf.float32, [None, None, None, args.classes], name='labels')
        train_op, _ = model.get_optimizer(labels, 1e-4)
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
        one_hot = utils.one_hot(classes, args.classes)
        for name in precisions:
            if 'inference' in args.modes:
                session, net = restored[name]
                variants[f'infer {name} b{batch}'] = (
                    lambda s=session, m=net, x=images: s.run(m.classes, {m.image_input: x}))
                meta[f'infer {name} b{batch}'] = ('inference', name, batch)
            if 'training' in args.modes:
                variants[f'train {name} b{batch}'] = (
                    lambda s=sessions[name], x=images, y=one_hot: s.run(
                        train_op, {model.image_input: x, labels: y, model.keep_prob: 0.5}))
                meta[f'train {name} b{batch}'] = ('training', name, batch)
    return variants, meta, list(sessions.values()) + [s for s, _ in restored.values()]


def restore_model(checkpoint, precision_name, args, bf16_weights=True):
    """Return (session, model) restored from a checkpoint as infer.py restores it."""
    import tensorflow.compat.v1 as tf
    import fcnvgg
    graph = tf.Graph()
    session = tf.Session(graph=graph, config=session_config(precision_name, args))
    model = fcnvgg.FCNVGG(session)
    model.build_from_metagraph(checkpoint + '.meta', checkpoint,
                               bf16_weights=bf16_weights and precision_name == 'bf16')
    return session, model


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
    import evaluation
    import runs
    settings = runs.read_settings(args.run)
    checkpoint = runs.select_checkpoint(args.run)
    source = evaluation.load_validation_source(settings)   # as infer.py --evaluate does
    images, truth = [], []
    for batch_images, batch_labels in source.valid_generator(4):
        images += list(batch_images)
        truth += list(utils.labels_to_class_map(batch_labels))
        if len(images) >= args.agreement_images:
            break
    images, truth = np.stack(images[:args.agreement_images]), np.stack(truth[:len(images)])
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


# ---------------------------------------------------------------------- infer part

def scene_photo(rng, width, height):
    """Return a road-like uint8 BGR photo: sky and road gradients, blocks, mild noise."""
    y = np.linspace(0, 1, height, dtype=np.float32)[:, None, None]
    x = np.linspace(0, 1, width, dtype=np.float32)[None, :, None]
    sky = np.array([200, 160, 110], np.float32) * (1 - 0.3 * y) + 20 * x
    road = np.array([90, 90, 95], np.float32) * (0.7 + 0.6 * y) + 10 * x
    image = np.where(y < 0.45, sky, road)
    for _ in range(12):
        x0, y0 = rng.integers(0, width), rng.integers(0, height)
        x1, y1 = x0 + rng.integers(width // 20, width // 5), y0 + rng.integers(height // 10,
                                                                             height // 3)
        image[y0:y1, x0:x1] = rng.uniform(20, 235, 3)
    image = image + rng.normal(0, 6, image.shape)
    return np.clip(image, 0, 255).astype(np.uint8)


def write_photos(folder, count, size, seed=0):
    """Write `count` photos of `size` (width, height) as PNG; return their names."""
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(seed)
    names = [f'photo_{index:04d}.png' for index in range(count)]
    for name in names:
        utils.write_image(os.path.join(folder, name), scene_photo(rng, *size))
    return names


def make_run(run_dir, args, size, classes):
    """Write a run directory as main.py does: an untrained checkpoint and settings.json."""
    import tensorflow.compat.v1 as tf
    import fcnvgg
    import runs
    os.makedirs(run_dir, exist_ok=True)
    graph = tf.Graph()
    with graph.as_default(), tf.Session(graph=graph) as session:
        tf.set_random_seed(0)
        model = fcnvgg.FCNVGG(session)
        model.build_from_vgg(None, classes, backbone='scratch', width=args.vgg_width)
        # The score layers start at zero (one class everywhere); random ones paint regions
        # of every class, as a trained model would.
        rng = np.random.default_rng(0)
        for variable in tf.global_variables():
            if '/score_' in variable.name and 'weights' in variable.name:
                shape = variable.shape.as_list()
                variable.load(rng.normal(0, 1 / np.sqrt(shape[2]), shape).astype(np.float32),
                              session)
        tf.train.Saver().save(session, os.path.join(run_dir, runs.CHECKPOINT_PREFIX),
                              global_step=0)
    palette = [(255, 0, 255), (0, 0, 255), (0, 255, 0), (255, 0, 0), (0, 255, 255)]
    runs.write_settings(run_dir, {
        'image_size': list(size), 'num_classes': classes, 'precision': 'fp32',
        'label_colors': {str(c): list(palette[c % len(palette)]) for c in range(classes)}})


def sequential_paint(session, model, resizer, colors, root, photos, output_dir, batch_size):
    """The baseline: read a batch, run it with feed_dict, draw and write, one after another.

    The plain way with the project's helpers: utils.read_image, the network's resizing
    (resizing.PhotoResizer, so the class maps match infer.py's), session.run,
    resizing.resize_nearest and utils.blend_labels, utils.write_image. No overlap.
    """
    import resizing
    for start in range(0, len(photos), batch_size):
        names = photos[start:start + batch_size]
        images = [utils.read_image(os.path.join(root, name)) for name in names]
        prepared = np.stack([resizer(image) for image in images])
        classes = session.run(model.classes, {model.image_input: prepared,
                                              model.keep_prob: 1.0})
        for name, image, class_map in zip(names, images, classes):
            full = resizing.resize_nearest(class_map, (image.shape[1], image.shape[0]))
            utils.write_image(os.path.join(output_dir, name),
                              utils.blend_labels(image, full, colors))


class NoBar:
    """Stands in for infer.py's tqdm bar while timing."""

    def update(self, count):
        pass


def same_outputs(folder_a, folder_b, names):
    """Return whether two folders hold the same images under `names`."""
    return all(np.array_equal(utils.read_image(os.path.join(folder_a, name)),
                              utils.read_image(os.path.join(folder_b, name))) for name in names)


def photo_size_for(size, args):
    """Return the photo size painted with a model of `size`: --photo-size, else the camera
    frames of the data set with that size (KITTI, Cityscapes), else four times the size."""
    if args.photo_size:
        return tuple(args.photo_size)
    return CAMERA_FRAMES.get(tuple(size), (4 * size[0], 4 * size[1]))


def bench_infer(args, precisions, work_dir):
    """Time infer.py's painting against the sequential loop, per model size and precision.

    infer.py's side is set up as infer.py sets it up (session for the precision, the model
    restored with bf16 weights in bf16, a Painter) and runs its `paint_photos`. The
    baseline has its own session and model, restored plainly. `network_images_per_s` is
    infer.py's network alone on prepared batches: no painting can beat it.
    """
    import infer
    import resizing
    import runs
    results = []
    for size in args.sizes:
        photo_size = photo_size_for(size, args)
        label = f'{size[0]}x{size[1]}'
        run_dir = os.path.join(work_dir, f'run-{label}')
        photos_dir = os.path.join(work_dir, f'photos-{photo_size[0]}x{photo_size[1]}')
        print(f'[i] infer.py path: {args.photos} photos of {photo_size[0]}x{photo_size[1]}, '
              f'model at {label}', flush=True)
        make_run(run_dir, args, size, args.classes)
        names = write_photos(photos_dir, args.photos, photo_size)
        settings = runs.read_settings(run_dir)
        checkpoint = runs.select_checkpoint(run_dir)
        colors = runs.label_colors(settings)
        root, listed = infer.list_inputs(photos_dir, False)
        for name in precisions:
            session, model = restore_model(checkpoint, name, args)
            painter = infer.Painter(session, model, settings)
            plain_session, plain_model = restore_model(checkpoint, name, args,
                                                       bf16_weights=False)
            with plain_session.graph.as_default():
                resizer = resizing.PhotoResizer(plain_session, settings['image_size'])
            out = {kind: os.path.join(work_dir, f'painted-{label}-{name}-{kind}')
                   for kind in ('pipeline', 'sequential')}
            options = infer.parse_args(['--name', run_dir, '--samples-dir', photos_dir,
                                        '--output-dir', out['pipeline'],
                                        '--batch-size', str(args.infer_batch)])
            prepared = [painter.prepare(utils.read_image(os.path.join(root, n)))
                        for n in listed]
            batches = [prepared[i:i + args.infer_batch]
                       for i in range(0, len(prepared), args.infer_batch)]

            def pipeline():
                shutil.rmtree(out['pipeline'], ignore_errors=True)
                infer.paint_photos(painter, root, listed, options, NoBar())

            def sequential():
                shutil.rmtree(out['sequential'], ignore_errors=True)
                os.makedirs(out['sequential'])
                sequential_paint(plain_session, plain_model, resizer, colors, root, listed,
                                 out['sequential'], args.infer_batch)

            def network():
                for batch in batches:
                    painter.classify(batch)

            # Warm-up: graph optimisation and kernels of both sessions at this batch size.
            network()
            plain_session.run(plain_model.classes, {plain_model.image_input: np.stack(
                batches[0])})
            times = interleaved({'pipeline': pipeline, 'sequential': sequential,
                                 'network': network}, args, warmup=0,
                                desc=f'infer {label} {name}')
            identical = same_outputs(out['pipeline'], out['sequential'], names)
            session.close()
            plain_session.close()
            best = {kind: min(value) for kind, value in times.items()}
            results.append({
                'precision': name, 'model_size': list(size), 'photo_size': list(photo_size),
                'photos': args.photos, 'batch': args.infer_batch,
                'pipeline_images_per_s': args.photos / best['pipeline'],
                'sequential_images_per_s': args.photos / best['sequential'],
                'network_images_per_s': args.photos / best['network'],
                'speedup': best['sequential'] / best['pipeline'],
                'outputs_identical': bool(identical), 'seconds': times})
    return results


# ---------------------------------------------------------------------- labels part

def cityscapes_colors():
    """Return the Cityscapes source's {class: BGR colour} and its 'unlabeled' class."""
    import source_cityscapes
    source = source_cityscapes.get_source()
    return dict(source.label_colors), source.unknown_class


def colour_label(rng, size, colors):
    """Return a Cityscapes-style uint8 BGR colour label: regions of the classes' colours."""
    width, height = size
    table = np.array([colors[c] for c in sorted(colors)], np.uint8)
    label = np.zeros([height, width, 3], np.uint8)
    label[:] = table[rng.integers(len(table))]
    for _ in range(60):
        points = np.stack([rng.integers(0, width, 5), rng.integers(0, height, 5)], 1)
        hull = cv2.convexHull(points.astype(np.int32))
        cv2.fillConvexPoly(label, hull, [int(v) for v in table[rng.integers(len(table))]])
    return label


def encode_by_class_loop(label, colors, unknown_class):
    """One-hot labels by a loop over classes: a mask per colour, the rest unknown_class.

    The straightforward way, as the original Cityscapes source did it.
    """
    height, width = label.shape[:2]
    encoded = np.zeros([height, width, len(colors)], np.float32)
    matched = np.zeros([height, width], bool)
    for index in sorted(colors):
        if index == unknown_class:
            continue
        mask = np.all(label == np.array(colors[index], np.uint8), axis=2) & ~matched
        encoded[mask, index] = 1
        matched |= mask
    if 0 <= unknown_class < len(colors):
        encoded[~matched, unknown_class] = 1
    return encoded


def encode_vectorised(label, colors, unknown_class):
    """One-hot labels the project's way: utils.colors_to_class_map, then utils.one_hot."""
    return utils.one_hot(utils.colors_to_class_map(label, colors, unknown_class), len(colors))


def check_by_pixel_loop(labels):
    """Bad-row mask of one-hot labels [H, W, C] by a loop over pixels, as the original
    checker did: a row is valid when it has one non-zero entry and that entry is 1."""
    height, width = labels.shape[:2]
    bad = np.zeros([height, width], bool)
    for y in range(height):
        for x in range(width):
            row = labels[y, x]
            bad[y, x] = np.count_nonzero(row) != 1 or 1 not in row
    return bad


def corrupt(labels, rng, count=50):
    """Return a copy of one-hot labels with `count` rows made invalid in various ways."""
    labels = labels.copy()
    height, width, classes = labels.shape
    for index in range(count):
        y, x = rng.integers(height), rng.integers(width)
        kind = index % 4
        if kind == 0:
            labels[y, x] = 0                              # all zero
        elif kind == 1:
            labels[y, x, (np.argmax(labels[y, x]) + 1) % classes] = 1   # two ones
        elif kind == 2:
            labels[y, x] *= 0.5                            # one entry, not 1
        else:
            labels[y, x, 0] = np.nan
    return labels


def bench_labels(args):
    """Time encoding and checking of colour labels, vectorised against the loops."""
    colors, unknown = cityscapes_colors()
    rng = np.random.default_rng(0)
    count = args.label_images
    print(f'[i] Labels: {count} colour labels of {args.label_size[0]}x{args.label_size[1]}, '
          f'{len(colors)} Cityscapes colours', flush=True)
    labels = [colour_label(rng, args.label_size, colors) for _ in range(count)]
    encoded = [encode_vectorised(label, colors, unknown) for label in labels]
    same_encoding = all(np.array_equal(e, encode_by_class_loop(label, colors, unknown))
                        for e, label in zip(encoded, labels))
    checked = [corrupt(e, rng) for e in encoded]
    loop_items = checked[:args.check_loop_images]
    same_check = all(np.array_equal(utils.check_one_hot(c).bad, check_by_pixel_loop(c))
                     for c in loop_items)
    times = interleaved({
        'encode loop': lambda: [encode_by_class_loop(lb, colors, unknown) for lb in labels],
        'encode vectorised': lambda: [encode_vectorised(lb, colors, unknown) for lb in labels],
        'check loop': lambda: [check_by_pixel_loop(c) for c in loop_items],
        'check vectorised': lambda: [utils.check_one_hot(c) for c in checked],
    }, args, warmup=0, desc='labels')
    per_image = {key: 1000 * min(value) / (len(loop_items) if key == 'check loop' else count)
                 for key, value in times.items()}
    return {'images': count, 'check_loop_images': len(loop_items),
            'size': list(args.label_size), 'classes': len(colors),
            'ms_per_image': per_image,
            'encode_speedup': per_image['encode loop'] / per_image['encode vectorised'],
            'check_speedup': per_image['check loop'] / per_image['check vectorised'],
            'encode_identical': bool(same_encoding), 'check_identical': bool(same_check)}


# ---------------------------------------------------------------------- loader part

def write_cityscapes(data_dir, count, size, seed=0):
    """Write `count` Cityscapes-layout photo and colour-label pairs of `size` (train/)."""
    colors, _ = cityscapes_colors()
    rng = np.random.default_rng(seed)
    images = os.path.join(data_dir, 'leftImg8bit', 'train', 'bench')
    labels = os.path.join(data_dir, 'gtFine', 'train', 'bench')
    os.makedirs(images, exist_ok=True)
    os.makedirs(labels, exist_ok=True)
    for index in tqdm(range(count), desc='writing Cityscapes-style files', leave=False):
        stem = f'bench_{index:06d}_000019'
        utils.write_image(os.path.join(images, f'{stem}_leftImg8bit.png'),
                          scene_photo(rng, *size))
        utils.write_image(os.path.join(labels, f'{stem}_gtFine_color.png'),
                          colour_label(rng, size, colors))


def bench_loader(args, work_dir):
    """Time the Cityscapes source's threaded batches against loading in one thread."""
    data_dir = os.path.join(work_dir, 'cityscapes')
    size = args.loader_file_size
    print(f'[i] Loader: {args.loader_images} Cityscapes-style pairs of {size[0]}x{size[1]}',
          flush=True)
    write_cityscapes(data_dir, args.loader_images, size)
    source = utils.load_data_source('cityscapes')
    source.load_data(data_dir, 0.0)
    batch_size = 4

    def threaded():
        return sum(len(images) for images, _ in source.train_generator(batch_size))

    def one_thread():
        epoch = source.train_generator(batch_size)
        total = 0
        for start in range(0, len(epoch.files), batch_size):
            samples = [source.load_sample(f, flip) for f, flip in
                       zip(epoch.files[start:start + batch_size],
                           epoch.flipped[start:start + batch_size])]
            images = np.stack([image for image, _ in samples])
            np.stack([label for _, label in samples])
            total += len(images)
        return total

    times = interleaved({'threaded': threaded, 'one thread': one_thread}, args, warmup=1,
                        desc='loader')
    workers = source.train_generator(batch_size).num_workers
    rates = {key: args.loader_images / min(value) for key, value in times.items()}
    return {'images': args.loader_images, 'file_size': list(size),
            'image_size': list(source.image_size), 'batch': batch_size, 'workers': workers,
            'images_per_s': rates, 'speedup': rates['threaded'] / rates['one thread']}


# ------------------------------------------------------------------------ reporting

def target_values(results, mixed):
    """Return {target key: (worst value, where, best value, where)} for what was measured.

    A target covers several rows (sizes, batches, precisions): it is met when its worst
    row meets it.
    """
    candidates = {}
    model = results.get('model')
    for row in (model or {}).get('rows', []):
        where = f'{row["size"]} batch {row["batch"]}'
        if row['precision'] == 'fp32':
            key = 'fp32_inference_pct' if row['mode'] == 'inference' else 'fp32_training_pct'
            candidates.setdefault(key, []).append((row['pct_of_ceiling'], where))
        elif row['precision'] == mixed and row['batch'] in (1, 4):
            key = (f'mixed_{row["mode"]}_speedup_b{row["batch"]}')
            candidates.setdefault(key, []).append((row['speedup_vs_fp32'], row['size']))
    if results.get('agreement'):
        agreement = results['agreement']
        candidates['mixed_agreement_pct'] = [(agreement['agreement_pct'], agreement['run'])]
    for row in results.get('infer') or []:
        where = f'{row["model_size"][0]}x{row["model_size"][1]} {row["precision"]}'
        candidates.setdefault('infer_speedup', []).append((row['speedup'], where))
    if results.get('labels'):
        candidates['encode_speedup'] = [(results['labels']['encode_speedup'], '')]
        candidates['check_speedup'] = [(results['labels']['check_speedup'], '')]
    return {key: (*min(values), *max(values)) for key, values in candidates.items()}


def evaluate_targets(results, mixed):
    """Return [{key, description, threshold, value, where, best, best_where, met}]."""
    values = target_values(results, mixed)
    targets = []
    for key, text, threshold in TARGETS:
        if key in values:
            worst, where, best, best_where = values[key]
            targets.append({'key': key, 'description': text, 'threshold': threshold,
                            'value': worst, 'where': where, 'best': best,
                            'best_where': best_where, 'met': worst >= threshold})
    return targets


def number(value):
    """Format a positive figure with one decimal, or three significant digits below 1."""
    return f'{value:.1f}' if value >= 1 else f'{value:.3g}'


def print_report(results, args):
    """Print the results as tables."""
    info = results['machine']
    flags = ', '.join(f'{flag} {"yes" if on else "no"}' for flag, on in info['flags'].items())
    print()
    print(f'CPU: {info["cpu"]}, {info["cores"]} cores; {flags}')
    print(f'TensorFlow {info["tensorflow"]} (oneDNN {"on" if info["onednn"] else "off"}), '
          f'threads intra-op {args.intra_threads or "default"}, inter-op '
          f'{args.inter_threads or "default"}; load average at start '
          f'{info["load_average_start"][0]:.2f}, at end {info["load_average_end"][0]:.2f}')
    set_aside = sum(sum(entry['set_aside'].values()) for entry in results['samples'])
    kept = sum(sum(entry['clean'].values()) for entry in results['samples'])
    print(f'Timed runs: {kept} kept, {set_aside} set aside and repeated because other '
          f'processes kept more than {args.quiet_limit:g} cores busy meanwhile')
    model = results.get('model')
    if model:
        print()
        print(f'FLOPs per image (2 per multiply-add over the 13 convolutions, fc6, fc7, the '
              f'score layers and the transposed convolutions; {args.classes} classes, VGG16 '
              f'width {args.vgg_width:g}):')
        for label, flops in model['flops'].items():
            groups = ', '.join(f'{k} {number(v)}' for k, v in flops['groups_gflop'].items())
            print(f'  {label}: forward {number(flops["forward_gflop"])} GFLOP ({groups}); '
                  f'training step {number(flops["training_gflop"])} GFLOP')
        ceilings = ', '.join(f'{key.replace("matmul ", "")} {max(v):.0f}'
                             for key, v in model['ceiling'].items())
        print(f'Matmul ceiling ({args.matmul_size}x{args.matmul_size}, GFLOP/s): {ceilings}')
        print()
        print(f'{"model":<10}{"size":>9}{"batch":>6}{"prec":>6}{"ms/img":>9}{"GFLOP/s":>9}'
              f'{"%ceil":>7}{"vs fp32":>9}')
        for row in model['rows']:
            print(f'{row["mode"]:<10}{row["size"]:>9}{row["batch"]:>6}{row["precision"]:>6}'
                  f'{row["ms_per_image"]:>9.1f}{row["gflops"]:>9.1f}'
                  f'{row["pct_of_ceiling"]:>6.0f}%{row["speedup_vs_fp32"]:>8.2f}x')
    agreement = results.get('agreement')
    if agreement:
        accuracy = ', '.join(f'{k} {v:.2f}%' for k, v in agreement['pixel_accuracy_pct'].items())
        print(f'\nClass maps of {agreement["run"]} ({agreement["checkpoint"]}, '
              f'{agreement["images"]} validation images): mixed precision agrees with fp32 on '
              f'{agreement["agreement_pct"]:.2f}% of pixels; pixel accuracy {accuracy}')
    if results.get('infer'):
        print()
        print(f'{"infer.py path":<14}{"photos":>16}{"prec":>6}{"img/s":>8}{"sequential":>11}'
              f'{"speedup":>9}{"network":>9}{"bound":>7}  same')
        for row in results['infer']:
            model_size = 'x'.join(str(v) for v in row['model_size'])
            photos = f'{row["photos"]} x ' + 'x'.join(str(v) for v in row['photo_size'])
            print(f'{model_size:<14}{photos:>16}{row["precision"]:>6}'
                  f'{row["pipeline_images_per_s"]:>8.2f}{row["sequential_images_per_s"]:>11.2f}'
                  f'{row["speedup"]:>8.2f}x{row["network_images_per_s"]:>9.2f}'
                  f'{row["network_images_per_s"] / row["sequential_images_per_s"]:>6.2f}x  '
                  f'{"yes" if row["outputs_identical"] else "NO"}')
    labels = results.get('labels')
    if labels:
        ms = labels['ms_per_image']
        print()
        print(f'Labels {labels["size"][0]}x{labels["size"][1]}, {labels["classes"]} classes, '
              f'ms/image: encode {ms["encode vectorised"]:.2f} vs loop over classes '
              f'{ms["encode loop"]:.2f} ({labels["encode_speedup"]:.1f}x, identical '
              f'{"yes" if labels["encode_identical"] else "NO"}); check '
              f'{ms["check vectorised"]:.2f} vs loop over pixels {ms["check loop"]:.0f} '
              f'({labels["check_speedup"]:.0f}x, identical '
              f'{"yes" if labels["check_identical"] else "NO"})')
    loader = results.get('loader')
    if loader:
        rates = loader['images_per_s']
        print(f'Loader (Cityscapes source, {loader["file_size"][0]}x{loader["file_size"][1]} '
              f'files to {loader["image_size"][0]}x{loader["image_size"][1]}, batch '
              f'{loader["batch"]}): {rates["threaded"]:.1f} img/s with {loader["workers"]} '
              f'worker threads vs {rates["one thread"]:.1f} in one thread '
              f'({loader["speedup"]:.2f}x)')
    if results['targets']:
        print('\nTargets (each met when its worst row meets it):')
        for target in results['targets']:
            spread = ''
            if target['where'] != target['best_where']:
                spread = (f' at {target["where"]}; best {target["best"]:.2f} at '
                          f'{target["best_where"]}')
            print(f'  [{"met" if target["met"] else "MISSED"}] {target["description"]}: '
                  f'{target["value"]:.2f}{spread} (target {target["threshold"]:g})')


# ----------------------------------------------------------------------------- main

def main(argv=None):
    """Run the chosen parts, print the tables and write the JSON."""
    args = parse_args(argv)
    validate_args(args)
    info = machine_info()
    mixed = mixed_precision(info)
    precisions = args.precisions or (['fp32'] + ([mixed] if mixed else []))
    if 'fp32' not in precisions:
        precisions = ['fp32'] + precisions
    unsupported = [p for p in precisions if p not in ('fp32', mixed)]
    if unsupported:
        raise utils.UserError(f'--precisions {",".join(unsupported)}: this machine supports '
                              f'fp32{" and " + mixed if mixed else " only"}')
    mixed = next((p for p in precisions if p != 'fp32'), None)
    print(f'[i] {info["cpu"]}, {info["cores"]} cores; precisions {", ".join(precisions)}; '
          f'{args.repeats} round(s) each, best counts', flush=True)
    work_dir = args.work_dir or tempfile.mkdtemp(prefix='bench-')
    os.makedirs(work_dir, exist_ok=True)
    results = {'machine': info, 'settings': dict(vars(args)), 'precisions': precisions}
    args.samples_log = results['samples'] = []
    started = time.time()
    try:
        if 'model' in args.parts:
            results['model'] = bench_model(args, precisions, work_dir)
            if args.run and mixed:
                results['agreement'] = bench_agreement(args, mixed)
        if 'infer' in args.parts:
            results['infer'] = bench_infer(args, precisions, work_dir)
        if 'labels' in args.parts:
            results['labels'] = bench_labels(args)
        if 'loader' in args.parts:
            results['loader'] = bench_loader(args, work_dir)
    finally:
        if not args.work_dir:
            shutil.rmtree(work_dir, ignore_errors=True)
    info['load_average_end'] = list(os.getloadavg())
    results['seconds'] = time.time() - started
    results['targets'] = evaluate_targets(results, mixed)
    print_report(results, args)
    with open(args.json, 'w') as handle:
        json.dump(results, handle, indent=1)
    print(f'\n[i] {results["seconds"]:.0f} s; results in {args.json}')
    return 0


if __name__ == '__main__':
    utils.run_script(main)
