"""Paint photos and dashcam videos with class colours; evaluate a run; export it for serving.

    python infer.py --name runs/kitti --samples-dir photos/ --output-dir painted/
    python infer.py --name runs/kitti --evaluate
    python infer.py --name runs/kitti --export exported/ [--export-format onnx --quantize int8]
    python infer.py --model exported/model.onnx --samples-dir photos/ --output-dir painted/

Each painted output has its input's resolution: the network sees the photo at the run's
image size (or scaled by --input-scale), and its class probabilities are resized back to the
photo's size bilinearly before the argmax (roadseg/predict/prediction.py).
"""
from roadseg.core import console

console.quiet_tensorflow()  # first: TensorFlow's start-up notes stay off the screen
import os
import argparse

import tensorflow.compat.v1 as tf

from fcnvgg import FCNVGG
from roadseg.core.errors import ArgumentParser, UserError, run_script
from roadseg.core.files import require_folder_or_nothing
from roadseg.data import images, sources
from roadseg.export import calibration, formats
from roadseg.export.exported_model import ExportedModel
from roadseg.export.exported_prediction import ExportedPredictor
from roadseg.model import checkpoints, precision
from roadseg.predict import painting
from roadseg.predict.prediction import Predictor, check_input_scale
from roadseg.predict.tta import InferenceOptions
from roadseg.score import evaluation
from roadseg.score.submissions import source_benchmark
from roadseg.train import run_settings


def parse_args(argv=None):
    """Return the command line arguments."""
    parser = ArgumentParser(
        description='Segment photos and videos with a trained run; evaluate or export it.')
    add = parser.add_argument
    add('--name', help='run directory written by main.py (needed unless --model paints)')
    add('--model', metavar='FILE', help='paint and evaluate with this exported .onnx or '
        '.tflite model (its .json beside it) instead of the run\'s checkpoint')
    add('--checkpoint', type=int, default=-1, help="index into the run's checkpoints, oldest "
        'first; -1 is the latest (default)')
    add('--samples-dir', help='folder of photos (png, jpg, jpeg) and videos (mp4, avi, mov, '
        'mkv), or one video file')
    add('--output-dir', help='where painted outputs (and metrics.json) go')
    add('--batch-size', type=int, default=4, help='images per network run (default 4)')
    add('--data-source', help='data source for --evaluate (default: the run\'s)')
    add('--data-dir', help='data directory for --evaluate (default: the run\'s)')
    add('--recursive', action='store_true', help='also paint sub-folders, keeping their '
        'structure under --output-dir')
    add('--masks', action='store_true', help='also write <name>_classes.png (class indices) '
        'and <name>_colors.png (class colours)')
    skip = parser.add_mutually_exclusive_group()
    skip.add_argument('--skip-existing', action='store_true', help='leave inputs whose outputs '
                      'all exist')
    skip.add_argument('--overwrite', action='store_true', help='replace outputs that exist '
                      '(without it, existing outputs stop the run before anything is written)')
    add('--shard', type=parse_shard, metavar='K/N', help='paint only the K-th of N disjoint '
        'parts of the sorted input list (K = 1..N), so N machines or GPUs share a folder')
    add('--precision', choices=precision.PRECISIONS, help="fp32, bf16 or fp16 (default: the "
        "run's); falls back to fp32 where the hardware lacks it")
    add('--evaluate', action='store_true', help="score the data source's validation split: "
        'pixel accuracy, per-class IoU, mIoU; precision, recall, F1 and MaxF for two classes; '
        'the official Cityscapes score where the source gives label ids')
    add('--split', metavar='NAME', help="with --evaluate: score this split of the data "
        "source's own (CamVid: val or test) instead of the run's validation split")
    add('--all-samples', action='store_true', help='with --evaluate: score every labelled '
        "sample of --data-dir, not only the run's validation split (a folder of held-out "
        'data, e.g. a KITTI subset)')
    add('--export', metavar='DIR', help='export the run to this new folder: a TF '
        'SavedModel with a serving signature (BGR images of any size in; class map and '
        'probabilities out, at the input size), or see --export-format')
    add('--export-format', choices=list(formats.FORMATS), default='savedmodel',
        help='savedmodel (default); onnx (onnxruntime, OpenCV\'s dnn) or tflite (LiteRT): '
        "a fixed input size, the run's image size, and model.json beside the model")
    add('--quantize', choices=formats.QUANTIZATIONS, default='none',
        help=f'none (default); float16 weights (tflite); int8, calibrated on the run\'s '
        f'training photos (onnx, tflite). Supported: {formats.supported_combinations()}')
    add('--calibration-images', type=int, default=calibration.DEFAULT_COUNT, metavar='N',
        help=f'training photos that calibrate int8 (default {calibration.DEFAULT_COUNT})')
    add('--input-scale', type=float, metavar='S', help="run the network on each photo scaled "
        "by S (1: native resolution), padded to a multiple of 32; default: the run's image "
        'size, as trained')
    add('--tta-flip', action='store_true', help='also run each photo mirrored and average '
        'the class probabilities (test-time augmentation)')
    add('--tta-scales', type=parse_scales, metavar='S1,S2,...', help='run each photo at '
        'these scales of the input scale (or of the run\'s image size) and average the '
        'probabilities at the photo\'s size, e.g. 0.75,1,1.25 (default 1)')
    add('--window', type=parse_window, metavar='WxH', help='run network inputs larger than '
        'this (multiples of 32) as overlapping windows, probabilities averaged where they '
        'overlap: any photo size in bounded memory')
    add('--window-overlap', type=float, default=1 / 3, metavar='F', help='fraction of a '
        'window that neighbouring windows share (default 1/3)')
    add('--benchmark-results', metavar='DIR', help="also write each painted photo's "
        "benchmark file at its original size: Cityscapes label-id PNGs under DIR/<city>/, "
        'KITTI Road confidence PNGs <cat>_road_<n>.png')
    return parser.parse_args(argv)


def parse_shard(text):
    """Return (k, n) from 'K/N' with 1 <= K <= N, for argparse."""
    try:
        k, n = (int(part) for part in text.split('/'))
    except ValueError:
        raise argparse.ArgumentTypeError(f'{text!r} is not K/N, e.g. 2/4') from None
    if not 1 <= k <= n:
        raise argparse.ArgumentTypeError(f'{text!r}: K must be between 1 and N')
    return k, n


def parse_scales(text):
    """Return the scales of 'S1,S2,...', for argparse."""
    try:
        return tuple(float(item) for item in text.split(',') if item.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f'{text!r} is not a list of scales, e.g. '
                                         '0.75,1,1.25') from None


def parse_window(text):
    """Return (width, height) of 'WxH', for argparse."""
    try:
        width, height = (int(v) for v in text.lower().split('x'))
    except ValueError:
        raise argparse.ArgumentTypeError(f'{text!r} is not WIDTHxHEIGHT, e.g. 512x256') \
            from None
    return width, height


def inference_options(args):
    """Return the tta.InferenceOptions the command line asks for (checked)."""
    return InferenceOptions(args.tta_flip, args.tta_scales or (1.0,), args.window,
                            args.window_overlap).check()


def validate_args(args):
    """Raise `UserError` for arguments no run can use."""
    if not (args.samples_dir or args.evaluate or args.export):
        raise UserError('nothing to do: give --samples-dir (with --output-dir), --evaluate or '
                        '--export')
    if not args.name and not args.model:
        raise UserError('give --name RUN (a run directory written by main.py), or --model '
                        'FILE to paint with an exported model')
    if args.model:
        check_model_args(args)
    if args.samples_dir and not args.output_dir:
        raise UserError('--samples-dir needs --output-dir for the painted outputs')
    if args.batch_size < 1:
        raise UserError('--batch-size must be at least 1')
    check_input_scale(args.input_scale)
    inference_options(args)
    if args.all_samples and not args.evaluate:
        raise UserError('--all-samples applies to --evaluate')
    if args.split and not args.evaluate:
        raise UserError('--split applies to --evaluate')
    if args.benchmark_results and not args.samples_dir:
        raise UserError('--benchmark-results needs --samples-dir: the photos to write them for')
    if args.samples_dir and not os.path.exists(args.samples_dir):
        raise UserError(f'--samples-dir {args.samples_dir} does not exist')
    if args.export:
        formats.check_request(args.export_format, args.quantize, args.input_scale)
    elif args.export_format != 'savedmodel' or args.quantize != 'none':
        raise UserError('--export-format and --quantize apply to --export DIR')
    for flag, path in (('--output-dir', args.output_dir), ('--export', args.export),
                       ('--benchmark-results', args.benchmark_results)):
        if path:
            require_folder_or_nothing(path, flag)
    if args.samples_dir and args.output_dir:
        painting.refuse_painting_over_inputs(args.samples_dir, args.output_dir,
                                             args.recursive)


def check_model_args(args):
    """Raise `UserError` for flags that do not apply to an exported model."""
    for flag, given in (('--export', args.export), ('--input-scale', args.input_scale),
                        ('--precision', args.precision),
                        ('--checkpoint', args.checkpoint != -1),
                        ('--tta-flip', args.tta_flip), ('--tta-scales', args.tta_scales),
                        ('--window', args.window)):
        if given:
            raise UserError(f'{flag} applies to the run\'s checkpoint, not to --model (an '
                            'exported model has one input size and precision, and runs each '
                            'photo once)')
    if args.evaluate and not args.name:
        raise UserError('--evaluate with --model needs --name: the run whose validation '
                        'split to score')


def paint_options(args):
    """Return the PaintOptions the command line asks for."""
    return painting.PaintOptions(args.output_dir, args.batch_size, args.masks, args.recursive,
                                 args.skip_existing, args.shard, args.overwrite,
                                 args.benchmark_results)


def evaluation_options(args):
    """Return the EvaluationOptions the command line asks for."""
    return evaluation.EvaluationOptions(args.output_dir or args.name, args.batch_size,
                                        args.data_source, args.data_dir, args.input_scale,
                                        args.all_samples, args.split)


def run_benchmark(data_source, wanted):
    """Return `data_source`'s `benchmarks.Benchmark` if `wanted`, else None; `UserError`
    when the source has no benchmark format."""
    if not wanted:
        return None
    benchmark = source_benchmark(sources.load_data_source(data_source), sources.optional)
    if benchmark is None:
        raise UserError(f'the data source {data_source} has no benchmark format: '
                        '--benchmark-results applies to cityscapes and kitti runs')
    return benchmark


def model_settings(model, name):
    """Return the RunSettings to paint with an exported model: the run's (`name`) if given,
    else what the model's JSON says (input size, classes, colours, data source)."""
    if name:
        settings = run_settings.read_settings(name)
        if settings.num_classes != model.num_classes:
            raise UserError(f'{model.path} has {model.num_classes} classes, the run {name} '
                            f'{settings.num_classes}: is it that run\'s export?')
        return settings
    source_run = model.info.get('source_run', {})
    return run_settings.RunSettings(
        data_source=source_run.get('data_source') or 'unknown', image_size=list(
            model.input_size), num_classes=model.num_classes,
        label_colors=model.label_colors, class_names=model.class_names or None)


def run_tasks(args, settings, checkpoint_label, predictor_for, benchmark):
    """Paint and evaluate as asked with `predictor_for(probability_of)` (a Predictor or an
    ExportedPredictor); return the number of inputs that could not be painted."""
    skipped = 0
    if args.samples_dir:
        predictor = predictor_for(benchmark.probability_of() if benchmark else None)
        painter = painting.Painter(predictor, settings.label_colors, benchmark)
        skipped = painting.paint(painter, args.samples_dir, paint_options(args))
    if args.evaluate:
        evaluation.evaluate(predictor_for, settings, checkpoint_label,
                            evaluation_options(args))
    return skipped


def main_with_model(args):
    """Paint and evaluate with an exported model (--model)."""
    model = ExportedModel(args.model)
    settings = model_settings(model, args.name)
    benchmark = run_benchmark(settings.data_source, args.benchmark_results)
    print(f'[i] Model {args.model} ({model.format}, {model.quantize}, runtime '
          f'{model.runtime}), input {model.input_size[0]}x{model.input_size[1]}')
    label = {'model': os.path.basename(args.model),
             'checkpoint': model.info.get('source_run', {}).get('checkpoint')}
    return run_tasks(args, settings, label,
                     lambda probability_of: ExportedPredictor(model, probability_of),
                     benchmark)


def main(argv=None):
    """Parse, validate, restore the run (or load an exported model), then paint, evaluate
    and export as asked."""
    args = parse_args(argv)
    images.quiet_opencv()
    precision.report_gpus()
    validate_args(args)
    if args.model:
        return 1 if main_with_model(args) else 0
    settings = run_settings.read_settings(args.name)
    checkpoint = checkpoints.select_checkpoint(args.name, args.checkpoint)
    benchmark = run_benchmark(settings.data_source, args.benchmark_results)
    mode = precision.resolve(args.precision or settings.precision)
    print(f'[i] Run {args.name}, checkpoint {os.path.basename(checkpoint)}, precision {mode}')

    skipped = 0
    graph = tf.Graph()
    with graph.as_default(), tf.Session(graph=graph,
                                        config=precision.session_config(mode)) as session:
        model = FCNVGG(session)
        model.build_from_metagraph(checkpoint + '.meta', checkpoint,
                                   bf16_weights=mode == 'bf16')

        def predictor_for(probability_of):
            return Predictor(session, model, settings.image_size, args.input_scale,
                             probability_of, inference_options(args))
        label = {'model': None, 'checkpoint': os.path.basename(checkpoint)}
        skipped = run_tasks(args, settings, label, predictor_for, benchmark)
    if args.export:
        formats.export_model(checkpoint, settings, args.export, args.export_format,
                             args.quantize, args.calibration_images, args.data_dir,
                             args.input_scale)
    return 1 if skipped else 0


if __name__ == '__main__':
    run_script(main)
