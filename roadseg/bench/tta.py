"""The benchmark's tta part: what test-time augmentation and windows cost, as infer.py runs
them (prediction.Predictor with tta.InferenceOptions), beside plain inference, on the same
camera-sized photos in the same rounds: ms per photo, network runs per photo, and the
ratio to plain.
"""
import os

from roadseg.bench.infer import size_inputs
from roadseg.bench.model import restore_model
from roadseg.bench.timing import interleaved
from roadseg.data.images import read_image
from roadseg.model import checkpoints
from roadseg.predict.prediction import Predictor
from roadseg.predict.tta import InferenceOptions
from roadseg.train import run_settings


def modes(size):
    """Return {mode name: (input scale, InferenceOptions)}: plain, mirrored, three scales,
    three scales mirrored, and windows of the network's size over the photo at its native
    resolution (against the same photo whole at native resolution)."""
    return {
        'plain': (None, InferenceOptions()),
        'flip': (None, InferenceOptions(flip=True)),
        'scales 0.75,1,1.25': (None, InferenceOptions(scales=(0.75, 1.0, 1.25))),
        'scales + flip': (None, InferenceOptions(flip=True, scales=(0.75, 1.0, 1.25))),
        'native, whole': (1.0, InferenceOptions()),
        f'native, windows {size[0]}x{size[1]}': (1.0, InferenceOptions(window=tuple(size))),
    }


def bench_tta(args, precisions, work_dir):
    """Time each mode on --photos photos per model size, in each precision; return rows."""
    results = []
    for size in args.sizes:
        label, photo_size, run_dir, photos_dir, names = size_inputs(args, size, work_dir)
        photos = [read_image(os.path.join(photos_dir, name)) for name in names]
        settings = run_settings.read_settings(run_dir)
        checkpoint = checkpoints.select_checkpoint(run_dir)
        for name in precisions:
            session, model = restore_model(checkpoint, name, args)
            predictors = {mode: Predictor(session, model, settings.image_size, scale,
                                          options=options)
                          for mode, (scale, options) in modes(size).items()}
            prepared = {mode: [p.prepare(photo) for photo in photos]
                        for mode, p in predictors.items()}
            times = interleaved({mode: (lambda m=mode: predictors[m].predict(prepared[m]))
                                 for mode in predictors}, args, desc=f'tta {label} {name}')
            plain = min(times['plain'])
            for mode, seconds in times.items():
                predictor = predictors[mode]
                results.append({
                    'precision': name, 'model_size': list(size),
                    'photo_size': list(photo_size), 'mode': mode,
                    'ms_per_photo': 1000 * min(seconds) / len(photos),
                    'network_runs_per_photo': predictor.network_runs / predictor.photos,
                    'vs_plain': min(seconds) / plain, 'seconds': seconds})
            session.close()
    return results
