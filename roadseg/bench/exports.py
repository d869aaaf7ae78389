"""The benchmark's exports part: the ONNX and TFLite exports (roadseg/export/formats.py) against
TensorFlow fp32 and the mixed precision, batch 1, per network size.

At each size a run is exported in every format and quantisation, and each is timed on one
photo at the network's size in its own runtime (onnxruntime, OpenCV's dnn for the float
ONNX model, LiteRT), in the same rounds as the checkpoint restored as infer.py restores it.
The class maps of each are compared with TensorFlow fp32's on the run's validation photos.

The run is --run where its image size is the size (a trained run: the agreement that
matters), else a full-width VGG16 run made here with random score layers (which paints
regions of every class) on synthetic scenes of that size, which also calibrate int8; its
agreement says how close the runtimes compute, not how a trained model fares.
"""
import json
import os

import numpy as np

from roadseg.bench.infer import make_run
from roadseg.bench.model import restore_model
from roadseg.bench.timing import interleaved
from roadseg.export import formats
from roadseg.export.exported_model import ExportedModel
from roadseg.model import checkpoints
from roadseg.score.evaluation import load_validation_source
from roadseg.train import run_settings

EXPORTS = [('onnx', 'none', 'onnxruntime'), ('onnx', 'none', 'opencv'),
           ('onnx', 'int8', 'onnxruntime'), ('tflite', 'none', 'litert'),
           ('tflite', 'float16', 'litert'), ('tflite', 'int8', 'litert')]
SYNTHETIC_SAMPLES = 40


def bench_run(args, size, work_dir):
    """Return (run directory, whether it is trained) for a size: --run if it has that
    image size, else an untrained full-width run on synthetic scenes of that size."""
    if args.run and tuple(run_settings.read_settings(args.run).image_size) == tuple(size):
        return args.run, True
    label = f'{size[0]}x{size[1]}'
    data_dir = os.path.join(work_dir, f'synthetic-{label}')
    os.makedirs(data_dir, exist_ok=True)
    with open(os.path.join(data_dir, 'synthetic.json'), 'w') as handle:
        json.dump({'image_size': list(size), 'num_samples': SYNTHETIC_SAMPLES}, handle)
    run_dir = os.path.join(work_dir, f'exports-run-{label}')
    make_run(run_dir, args, size, 7, data_source='synthetic', data_dir=data_dir)
    return run_dir, False


def validation_photos(settings, count):
    """Return up to `count` validation photos of a run, float32 [N, H, W, 3] at its size."""
    source = load_validation_source(settings)
    photos = []
    for images, _ in source.valid_generator(4):
        photos.extend(images)
        if len(photos) >= count:
            break
    return np.stack(photos[:count])


def export_all(run_dir, work_dir, label, calibration_count):
    """Export the run in every format and quantisation of EXPORTS; return {(format,
    quantize): model path}."""
    settings = run_settings.read_settings(run_dir)
    checkpoint = checkpoints.select_checkpoint(run_dir)
    paths = {}
    for kind, quantize, _ in EXPORTS:
        if (kind, quantize) not in paths:
            folder = os.path.join(work_dir, f'export-{label}-{kind}-{quantize}')
            paths[kind, quantize] = formats.export_model(
                checkpoint, settings, folder, kind, quantize, calibration_count)
    return paths


def bench_exports(args, precisions, work_dir):
    """Time every export against TensorFlow at batch 1 per size; return the rows."""
    rows = []
    for size in args.sizes:
        label = f'{size[0]}x{size[1]}'
        run_dir, trained = bench_run(args, size, work_dir)
        settings = run_settings.read_settings(run_dir)
        what = f'the trained run {run_dir}' if trained else 'an untrained run'
        print(f'[i] Exports {label}: exporting {what} in every format', flush=True)
        paths = export_all(run_dir, work_dir, label, args.calibration_images)
        photos = validation_photos(settings, args.agreement_images)
        one = photos[:1]
        checkpoint = checkpoints.select_checkpoint(run_dir)
        variants, maps, closers = {}, {}, []
        for name in precisions:
            session, model = restore_model(checkpoint, name, args)
            closers.append(session)
            feed = {model.keep_prob: 1.0}
            variants[f'tensorflow {name}'] = (
                lambda s=session, m=model, f=feed: s.run(m.classes, {m.image_input: one, **f}))
            maps[f'tensorflow {name}'] = np.concatenate([
                session.run(model.classes, {model.image_input: photos[i:i + 1], **feed})
                for i in range(len(photos))])
        for kind, quantize, runtime in EXPORTS:
            exported = ExportedModel(paths[kind, quantize], runtime)
            key = f'{kind} {quantize} {runtime}'
            variants[key] = lambda e=exported: e.predict(one)
            maps[key] = np.concatenate([exported.predict(photos[i:i + 1])[1]
                                        for i in range(len(photos))])
        times = interleaved(variants, args, warmup=1, desc=f'exports {label}')
        for session in closers:
            session.close()
        reference = maps['tensorflow fp32']
        mixed = f'tensorflow {precisions[-1]}'   # the mixed precision where there is one
        for key, seconds in times.items():
            rows.append({'size': label, 'variant': key, 'batch': 1,
                         'ms_per_image': 1000 * min(seconds),
                         'speedup_vs_tensorflow': min(times[mixed]) / min(seconds),
                         'versus': mixed,
                         'agreement_pct': 100 * float(np.mean(maps[key] == reference)),
                         'agreement_images': len(photos), 'trained_run': trained})
    return rows
