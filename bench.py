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
* vggzip: the default backbone, vgg.zip, as the original article's code runs it (the
  SavedModel imported as its own graph) against the project's VGG16 loaded with the same
  weights, training and inference (restored as infer.py restores it) side by side.
* infer: infer.py's painting (read, resize, infer, draw, write, overlapped; as infer.py
  sets it up) on a folder of camera-sized PNGs, against a plain sequential loop with the
  project's helpers and its own plainly restored session; and the network alone on the
  same batches, which no painting can beat ("bound": network / sequential).
* evaluate: infer.py --evaluate at each photo's size with the official Cityscapes score,
  against the training-size score of the source's batch pipeline (as --evaluate scored
  before), on 2048x1024 Cityscapes-layout files at the default input scale.
* labels: encoding colour labels to one-hot against a loop over classes, and checking
  one-hot rows against a loop over pixels (as the original checker did).
* loader: images/s delivered by the threaded batch loader against one thread, and with
  the Cityscapes augmentation recipe.
* tta: test-time augmentation (mirrored, three scales, both) and windows as infer.py runs
  them, beside plain inference on the same camera-sized photos: ms and network runs per
  photo.
* exports: the ONNX and TFLite exports in their runtimes against TensorFlow fp32 and the
  mixed precision, batch 1, with their class maps' agreement with TensorFlow fp32 (on
  --run's validation photos where its size is measured).

Every variant of a part runs in the same rounds, one after the other, and each figure is the
best of --repeats runs. The machine may be shared: each timed run waits for other
processes to go idle, and a run during which they (or the virtual machine's host) kept more
than --quiet-limit cores busy is set aside and repeated. Ratios compare figures of the same
run. Results go to stdout as a table and to --json as numbers.

This file is the command line and the order of the parts. The parts are in roadseg/bench/:
model.py (model, agreement and the FLOP counter), vgg_zip.py (vggzip), infer.py (infer),
tta.py (tta),
evaluate.py (evaluate), data.py (labels, loader) and exports.py (exports); the photos and
labels they generate in inputs.py; the timed rounds and the machine in timing.py; the tables
and the targets in report.py.
"""
from roadseg.core import console

console.quiet_tensorflow()  # first: TensorFlow's start-up notes stay off the screen
import os
import argparse
import shutil
import tempfile
import time

from roadseg.bench.data import bench_labels, bench_loader
from roadseg.bench.evaluate import bench_evaluate
from roadseg.bench.exports import bench_exports
from roadseg.bench.infer import bench_infer
from roadseg.bench.model import bench_agreement, bench_model
from roadseg.bench.report import SMOKE_NOTE, evaluate_targets, print_report
from roadseg.bench.timing import machine_info, mixed_precision
from roadseg.bench.tta import bench_tta
from roadseg.bench.vgg_zip import bench_vgg_zip
from roadseg.core.checks import check_image_size
from roadseg.core.errors import ArgumentParser, UserError, run_script
from roadseg.core.files import write_json

PARTS = ('model', 'vggzip', 'infer', 'tta', 'evaluate', 'labels', 'loader', 'exports')
CITYSCAPES_LABEL = (2048, 1024)   # size of the Cityscapes files the loader part reads


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


def make_parser():
    """Return the parser of the command line; --quick's defaults are filled in afterwards."""
    parser = ArgumentParser(
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
    add('--quiet-wait', type=float, help='seconds each timed run may wait for other '
        'processes to go idle (default 30; --quick 0)')
    add('--quiet-budget', type=float, default=600.0, help='seconds all the waits of a run '
        'may take together; once spent, runs are timed busy or not, and figures from a busy '
        'machine are marked (default 600)')
    add('--max-rounds', type=int, help='rounds at most, to collect --repeats undisturbed '
        'runs of each variant (default 3 x --repeats; --quick 1)')
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
    add('--eval-images', type=int, help='validation images of the evaluate part (default 8; '
        '--quick 1)')
    add('--label-images', type=int, help='labels encoded and checked (default 8; --quick 2)')
    add('--check-loop-images', type=int, help='labels checked by the slow per-pixel loop '
        '(default 2; --quick 1)')
    add('--label-size', type=parse_size, default=(512, 256), help='label size (default '
        '512x256, the Cityscapes source)')
    add('--loader-images', type=int, help='Cityscapes-style samples loaded (default 32; '
        '--quick 4)')
    add('--loader-file-size', type=parse_size, help='size of their files (default 2048x1024 '
        'as Cityscapes; --quick 512x256)')
    add('--calibration-images', type=int, help='photos that calibrate the int8 exports '
        '(default 100, as infer.py; --quick 4)')
    add('--work-dir', help='where generated files go (default: a temporary folder, removed '
        'at the end)')
    return parser


def quick_defaults(quick):
    """Return {argument: default} of the arguments whose defaults --quick shrinks."""
    return {'repeats': 1 if quick else 3,
            'quiet_wait': 0.0 if quick else 30.0,
            'max_rounds': 1 if quick else None,
            'sizes': [(128, 64)] if quick else [(576, 160), (512, 256)],
            'batches': [1, 2] if quick else [1, 4],
            'vgg_width': 0.0625 if quick else 1.0,
            'matmul_size': 512 if quick else 4096,
            'photos': 4 if quick else 16,
            'eval_images': 1 if quick else 8,
            'label_images': 2 if quick else 8,
            'check_loop_images': 1 if quick else 2,
            'loader_images': 4 if quick else 32,
            'loader_file_size': (512, 256) if quick else CITYSCAPES_LABEL,
            'calibration_images': 4 if quick else 100}


def parse_args(argv=None):
    """Return the command line arguments, with --quick's smaller defaults filled in."""
    args = make_parser().parse_args(argv)
    for key, value in quick_defaults(args.quick).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    return args


def validate_args(args):
    """Raise `UserError` for values the benchmark cannot use."""
    unknown = [part for part in args.parts if part not in PARTS]
    if unknown or not args.parts:
        raise UserError(f'--parts: unknown {", ".join(unknown) or "(none given)"}; '
                        f'choose from {", ".join(PARTS)}')
    for key in ('repeats', 'classes', 'matmul_size', 'photos', 'infer_batch', 'eval_images',
                'label_images',
                'check_loop_images', 'loader_images', 'agreement_images',
                'calibration_images'):
        if getattr(args, key) < 1:
            raise UserError(f'--{key.replace("_", "-")} must be at least 1')
    if not args.batches or min(args.batches) < 1:
        raise UserError('--batches must be positive integers')
    for width, height in args.sizes:
        check_image_size((width, height), f'--sizes {width}x{height}')
    if not 0 < args.vgg_width <= 4:
        raise UserError('--vgg-width must be in (0, 4]')
    if args.check_loop_images > args.label_images:
        args.check_loop_images = args.label_images


# ----------------------------------------------------------------------------- main

def choose_precisions(args, info):
    """Return (precisions to compare, fp32 first; the mixed one among them or None).

    --precisions, else fp32 and the mixed precision this machine supports; a precision
    the machine lacks is a `UserError`.
    """
    mixed = mixed_precision(info)
    precisions = args.precisions or (['fp32'] + ([mixed] if mixed else []))
    if 'fp32' not in precisions:
        precisions = ['fp32'] + precisions
    unsupported = [p for p in precisions if p not in ('fp32', mixed)]
    if unsupported:
        raise UserError(f'--precisions {",".join(unsupported)}: this machine supports '
                        f'fp32{" and " + mixed if mixed else " only"}')
    return precisions, next((p for p in precisions if p != 'fp32'), None)


def run_parts(args, precisions, mixed, work_dir, results):
    """Run the parts chosen with --parts, adding each one's results to `results`."""
    if 'model' in args.parts:
        results['model'] = bench_model(args, precisions, work_dir)
        if args.run and mixed:
            results['agreement'] = bench_agreement(args, mixed)
    if 'vggzip' in args.parts:
        results['vggzip'] = bench_vgg_zip(args, precisions, work_dir)
    if 'infer' in args.parts:
        results['infer'] = bench_infer(args, precisions, work_dir)
    if 'tta' in args.parts:
        results['tta'] = bench_tta(args, precisions, work_dir)
    if 'evaluate' in args.parts:
        results['evaluate'] = bench_evaluate(args, precisions, work_dir)
    if 'labels' in args.parts:
        results['labels'] = bench_labels(args)
    if 'loader' in args.parts:
        results['loader'] = bench_loader(args, work_dir)
    if 'exports' in args.parts:
        results['exports'] = bench_exports(args, precisions, work_dir)


def main(argv=None):
    """Run the chosen parts, print the tables and write the JSON."""
    args = parse_args(argv)
    validate_args(args)
    info = machine_info()
    precisions, mixed = choose_precisions(args, info)
    print(f'[i] {info["cpu"]}, {info["cores"]} cores; precisions {", ".join(precisions)}; '
          f'{args.repeats} round(s) each, best counts', flush=True)
    if args.quick:
        print(f'[i] {SMOKE_NOTE}', flush=True)
    work_dir = args.work_dir or tempfile.mkdtemp(prefix='bench-')
    os.makedirs(work_dir, exist_ok=True)
    results = {'machine': info, 'settings': dict(vars(args)), 'precisions': precisions}
    args.samples_log = results['samples'] = []
    args.waited = 0.0
    results['smoke'] = args.quick
    started = time.time()
    try:
        run_parts(args, precisions, mixed, work_dir, results)
    finally:
        if not args.work_dir:
            shutil.rmtree(work_dir, ignore_errors=True)
    info['load_average_end'] = list(os.getloadavg())
    results['seconds'] = time.time() - started
    results['waited'] = args.waited
    results['targets'] = evaluate_targets(results, mixed)
    print_report(results, args)
    write_json(args.json, results)
    print(f'\n[i] {results["seconds"]:.0f} s; results in {args.json}')
    return 0


if __name__ == '__main__':
    run_script(main)
