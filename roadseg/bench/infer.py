"""The benchmark's infer part: infer.py's painting (read, resize, infer, draw, write,
overlapped; as infer.py sets it up) on a folder of camera-sized PNGs, against a plain
sequential loop with the project's helpers and its own plainly restored session; and the
network alone on the same batches, which no painting can beat ("bound": network /
sequential).
"""
import os
import shutil

import numpy as np
import tensorflow.compat.v1 as tf

from fcnvgg import FCNVGG
from roadseg.bench.inputs import write_photos
from roadseg.bench.model import restore_model
from roadseg.bench.timing import interleaved
from roadseg.data.drawing import blend_labels
from roadseg.data.images import read_image, write_image
from roadseg.model import checkpoints
from roadseg.predict import painting
from roadseg.predict.prediction import Predictor
from roadseg.train import run_settings

# Camera frames of the data sets whose network sizes the benchmark uses: the photos painted.
CAMERA_FRAMES = {(576, 160): (1242, 375), (512, 256): (2048, 1024)}
PALETTE = [(255, 0, 255), (0, 0, 255), (0, 255, 0), (255, 0, 0), (0, 255, 255)]


def make_run(run_dir, args, size, classes, **settings):
    """Write a run directory as main.py does: an untrained checkpoint and settings.json
    (with `settings`, RunSettings fields, added)."""
    os.makedirs(run_dir, exist_ok=True)
    graph = tf.Graph()
    with graph.as_default(), tf.Session(graph=graph) as session:
        tf.set_random_seed(0)
        model = FCNVGG(session)
        model.build_from_vgg(None, classes, backbone='scratch', width=args.vgg_width)
        # The score layers start at zero (one class everywhere); random ones paint regions
        # of every class, as a trained model would.
        rng = np.random.default_rng(0)
        for variable in tf.global_variables():
            if '/score_' in variable.name and 'weights' in variable.name:
                shape = variable.shape.as_list()
                variable.load(rng.normal(0, 1 / np.sqrt(shape[2]), shape).astype(np.float32),
                              session)
        tf.train.Saver().save(session, os.path.join(run_dir, checkpoints.CHECKPOINT_PREFIX),
                              global_step=0)
    colors = {c: PALETTE[c % len(PALETTE)] for c in range(classes)}
    run_settings.write_settings(run_dir, run_settings.RunSettings(
        **{'image_size': list(size), 'num_classes': classes, 'precision': 'fp32',
           'label_colors': colors, **settings}))


def sequential_paint(predictor, colors, root, photos, output_dir, batch_size):
    """The baseline: read a batch, predict it, draw and write, one after another.

    The plain way with the project's helpers: images.read_image, prediction.Predictor (so
    the class maps match infer.py's), drawing.blend_labels, images.write_image. No overlap.
    """
    for start in range(0, len(photos), batch_size):
        names = photos[start:start + batch_size]
        images = [read_image(os.path.join(root, name)) for name in names]
        predictions = predictor.predict([predictor.prepare(image) for image in images])
        for name, image, prediction in zip(names, images, predictions):
            write_image(os.path.join(output_dir, name),
                        blend_labels(image, prediction.classes, colors))


class NoBar:
    """Stands in for infer.py's tqdm bar while timing."""

    def update(self, count):
        """Count nothing: no bar is drawn while timing."""


def same_outputs(folder_a, folder_b, names):
    """Return whether two folders hold the same images under `names`."""
    return all(np.array_equal(read_image(os.path.join(folder_a, name)),
                              read_image(os.path.join(folder_b, name))) for name in names)


def photo_size_for(size, args):
    """Return the photo size painted with a model of `size`: --photo-size, else the camera
    frames of the data set with that size (KITTI, Cityscapes), else four times the size."""
    if args.photo_size:
        return tuple(args.photo_size)
    return CAMERA_FRAMES.get(tuple(size), (4 * size[0], 4 * size[1]))


def size_inputs(args, size, work_dir):
    """Make the untrained run of one model size and write its camera-sized photos; return
    (label 'WxH', photo size, run directory, photos folder, photo names)."""
    photo_size = photo_size_for(size, args)
    label = f'{size[0]}x{size[1]}'
    run_dir = os.path.join(work_dir, f'run-{label}')
    photos_dir = os.path.join(work_dir, f'photos-{photo_size[0]}x{photo_size[1]}')
    make_run(run_dir, args, size, args.classes)
    names = write_photos(photos_dir, args.photos, photo_size)
    return label, photo_size, run_dir, photos_dir, names


def time_painting(args, run_dir, photos_dir, precision_name, out, desc):
    """Time infer.py's painting (into out['pipeline']), the sequential loop (into
    out['sequential']) and the network alone, in one precision, as `bench_infer` says;
    return {'pipeline', 'sequential', 'network': [seconds]}."""
    settings = run_settings.read_settings(run_dir)
    checkpoint = checkpoints.select_checkpoint(run_dir)
    root, listed = painting.list_inputs(photos_dir, False)
    session, model = restore_model(checkpoint, precision_name, args)
    painter = painting.Painter(Predictor(session, model, settings.image_size),
                               settings.label_colors)
    plain_session, plain_model = restore_model(checkpoint, precision_name, args,
                                               bf16_weights=False)
    plain = Predictor(plain_session, plain_model, settings.image_size)
    options = painting.PaintOptions(out['pipeline'], batch_size=args.infer_batch)
    prepared = [painter.prepare(read_image(os.path.join(root, n))) for n in listed]
    batches = [prepared[i:i + args.infer_batch]
               for i in range(0, len(prepared), args.infer_batch)]

    def pipeline():
        shutil.rmtree(out['pipeline'], ignore_errors=True)
        painting.paint_photos(painter, root, listed, options, NoBar())

    def sequential():
        shutil.rmtree(out['sequential'], ignore_errors=True)
        os.makedirs(out['sequential'])
        sequential_paint(plain, settings.label_colors, root, listed, out['sequential'],
                         args.infer_batch)

    def network():
        for batch in batches:
            painter.classify(batch)

    # Warm-up: graph optimisation and kernels of both sessions at this batch size.
    network()
    plain.predict(batches[0])
    times = interleaved({'pipeline': pipeline, 'sequential': sequential,
                         'network': network}, args, warmup=0, desc=desc)
    session.close()
    plain_session.close()
    return times


def bench_infer(args, precisions, work_dir):
    """Time infer.py's painting against the sequential loop, per model size and precision.

    infer.py's side is set up as infer.py sets it up (session for the precision, the model
    restored with bf16 weights in bf16, a Painter) and runs its `paint_photos`. The
    baseline has its own session and model, restored plainly. `network_images_per_s` is
    infer.py's network alone on prepared batches: no painting can beat it.
    """
    results = []
    for size in args.sizes:
        label, photo_size, run_dir, photos_dir, names = size_inputs(args, size, work_dir)
        print(f'[i] infer.py path: {args.photos} photos of {photo_size[0]}x{photo_size[1]}, '
              f'model at {label}', flush=True)
        for name in precisions:
            out = {kind: os.path.join(work_dir, f'painted-{label}-{name}-{kind}')
                   for kind in ('pipeline', 'sequential')}
            times = time_painting(args, run_dir, photos_dir, name, out,
                                  desc=f'infer {label} {name}')
            identical = same_outputs(out['pipeline'], out['sequential'], names)
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
