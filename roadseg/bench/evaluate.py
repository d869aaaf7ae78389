"""The benchmark's evaluate part: what scoring at each photo's size with the official
Cityscapes score costs, against the training-size score of the source's batch pipeline
(what `infer.py --evaluate` computed before full-resolution scores), at the default input
scale, in the same rounds.

The data are Cityscapes-layout 2048x1024 streets with label-id, instance-id and colour
files (inputs.py); the model is an untrained FCN-8s of the Cityscapes source's 29
classes at 512x256 (full-width VGG16 unless --vgg-width), restored as infer.py restores it.
"""
import os

from roadseg.bench.infer import make_run
from roadseg.bench.inputs import write_cityscapes_split
from roadseg.bench.model import restore_model
from roadseg.bench.timing import interleaved
from roadseg.data import sources
from roadseg.model import checkpoints
from roadseg.predict.prediction import Predictor
from roadseg.score import evaluation
from roadseg.train import run_settings

SIZE = (512, 256)   # the Cityscapes source's network size


def bench_evaluate(args, precisions, work_dir):
    """Time both evaluations in each precision; return a row per precision."""
    data_dir = os.path.join(work_dir, 'evaluate-data')
    write_cityscapes_split(data_dir, 'val', 'bench', args.eval_images)
    run_dir = os.path.join(work_dir, 'evaluate-run')
    make_run(run_dir, args, SIZE, sources.load_data_source('cityscapes').num_classes,
             data_source='cityscapes', data_dir=data_dir)
    settings = run_settings.read_settings(run_dir)
    checkpoint = checkpoints.select_checkpoint(run_dir)
    rows = []
    for precision in precisions:
        print(f'[i] Evaluate: {args.eval_images} images, {precision}', flush=True)
        session, model = restore_model(checkpoint, precision, args)
        source = evaluation.load_validation_source(settings)
        predictor = Predictor(session, model, settings.image_size)
        variants = {
            'training_size': lambda: evaluation.score_generator(
                predictor, source, args.infer_batch, 'cityscapes'),
            'full_resolution': lambda: evaluation.score_files(
                predictor, source, args.infer_batch, settings.image_size, None)}
        times = interleaved(variants, args, desc=f'evaluate {precision}')
        session.close()
        best = {name: min(seconds) for name, seconds in times.items()}
        rows.append({'precision': precision, 'images': args.eval_images,
                     'training_size_ms': 1000 * best['training_size'] / args.eval_images,
                     'full_resolution_ms': 1000 * best['full_resolution'] / args.eval_images,
                     'relative_speed': best['training_size'] / best['full_resolution']})
    return rows
