"""Painting photos and dashcam videos with a restored model's class colours.

Reading and writing run in threads beside the network; every output is written under a
temporary name and renamed, so an interruption never leaves half a file.
"""
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Optional, Tuple

import cv2
import numpy as np
from tqdm import tqdm

from roadseg.core import files
from roadseg.core.errors import UserError
from roadseg.core.streams import background, batched
from roadseg.data import drawing, images

IMAGE_EXTENSIONS = ('.png', '.jpg', '.jpeg')
VIDEO_FOURCC = {'.mp4': 'mp4v', '.mov': 'mp4v', '.avi': 'MJPG', '.mkv': 'XVID'}


@dataclass(frozen=True)
class PaintOptions:
    """How to paint a folder: infer.py's flags of the same names."""

    output_dir: str
    batch_size: int = 4
    masks: bool = False                   # also write <name>_classes.png and _colors.png
    recursive: bool = False
    skip_existing: bool = False
    shard: Optional[Tuple[int, int]] = None   # (k, n): only the k-th of n parts
    overwrite: bool = False               # replace outputs that already exist
    benchmark_dir: Optional[str] = None   # where the benchmark's submission files go


@dataclass(frozen=True)
class Outputs:
    """The files painting one input writes."""

    overlay: str
    masks: Optional[Tuple[str, str]] = None   # class indices, class colours
    benchmark: Optional[str] = None           # the benchmark's submission file

    def paths(self):
        """Return every path, the overlay first."""
        return [self.overlay, *(self.masks or ()), *([self.benchmark] if self.benchmark else [])]


class Painter:
    """A `prediction.Predictor` and what drawing its class maps needs."""

    def __init__(self, predictor, label_colors, benchmark=None):
        self.predictor = predictor
        self.colors = label_colors
        self.benchmark = benchmark     # a benchmarks.Benchmark, for submission files

    def prepare(self, image):
        """Return a photo made ready for the network (`prediction.Prepared`)."""
        return self.predictor.prepare(image)

    def classify(self, prepared):
        """Return the `prediction.Prediction` of each prepared photo."""
        return self.predictor.predict(prepared)

    def draw(self, image, prediction):
        """Return (colour mask, overlay) at the photo's resolution."""
        return drawing.draw_classes(image, prediction.classes, self.colors)

    def write(self, image, prediction, outputs):
        """Write the overlay and, when asked, the masks and the benchmark file."""
        colours, overlay = self.draw(image, prediction)
        for path in outputs.paths():
            os.makedirs(os.path.dirname(path) or os.curdir, exist_ok=True)
        images.write_image(outputs.overlay, overlay)
        if outputs.masks:
            dtype = np.uint8 if len(self.colors) <= 256 else np.uint16
            images.write_image(outputs.masks[0], prediction.classes.astype(dtype))
            images.write_image(outputs.masks[1], colours)
        if outputs.benchmark:
            images.write_image(outputs.benchmark, self.benchmark.submission_image(prediction))


def shard(items, k, n):
    """Return the K-th of N disjoint parts of `items` (every N-th item from the K-th)."""
    return items[k - 1::n]


def refuse_painting_over_inputs(samples_dir, output_dir, recursive):
    """Raise `UserError` when outputs would land on the inputs: the output folder is the
    samples folder (or the folder of the one video), or inside it with `recursive`."""
    root = os.path.dirname(samples_dir) if os.path.isfile(samples_dir) else samples_dir
    inside = os.path.relpath(os.path.realpath(output_dir), os.path.realpath(root))
    if inside == os.curdir or (recursive and not inside.startswith(os.pardir)):
        raise UserError(f'--output-dir {output_dir} would put the outputs among the inputs in '
                        f'{root} (overwriting them): choose a folder outside it')


def refuse_existing_outputs(inputs, options, benchmark=None):
    """Raise `UserError` when outputs of `inputs` already exist: files are only replaced
    when the user says so."""
    existing = [path for relative in inputs
                for path in output_paths(options, relative, benchmark).paths()
                if os.path.exists(path)]
    if existing:
        raise UserError(f'{len(existing)} output(s) already exist in {options.output_dir} '
                        f'(e.g. {os.path.basename(existing[0])}): add --skip-existing to keep '
                        'them and paint the rest, or --overwrite to replace them')


def list_inputs(samples_dir, recursive):
    """Return (root, relative paths of photos and videos), sorted; a video file is its own."""
    if os.path.isfile(samples_dir):
        return os.path.dirname(samples_dir), [os.path.basename(samples_dir)]
    paths = []
    for extension in IMAGE_EXTENSIONS + tuple(VIDEO_FOURCC):
        paths += files.find_files(samples_dir, extension, recursive)
    return samples_dir, sorted(os.path.relpath(p, samples_dir) for p in paths)


def is_video(path):
    """Return whether `path` names a video by its extension."""
    return os.path.splitext(path)[1].lower() in VIDEO_FOURCC


def output_paths(options, relative, benchmark=None):
    """Return the `Outputs` of one input: the overlay; for a photo, with `options.masks`
    the two masks and with `options.benchmark_dir` the benchmark's file."""
    overlay = os.path.join(options.output_dir, relative)
    if is_video(relative):
        return Outputs(overlay)
    stem = os.path.splitext(overlay)[0]
    masks = (stem + '_classes.png', stem + '_colors.png') if options.masks else None
    submission = None
    if options.benchmark_dir and benchmark:
        submission = os.path.join(options.benchmark_dir,
                                  benchmark.submission_path(os.path.basename(relative)))
    return Outputs(overlay, masks, submission)


def refuse_photos_without_benchmark_names(photos, benchmark):
    """Raise `UserError` when a photo's name is not one the benchmark can take, or when two
    photos (in different folders) would write the same benchmark file."""
    unnamed = [p for p in photos if benchmark.submission_path(os.path.basename(p)) is None]
    if unnamed:
        raise UserError(f'{len(unnamed)} photo(s) are not named as {benchmark.name} photos '
                        f'({benchmark.expected_names()}), e.g. {unnamed[0]}: their benchmark '
                        'files could not be matched to the ground truth')
    seen = {}
    for photo in photos:
        target = benchmark.submission_path(os.path.basename(photo))
        if target in seen:
            raise UserError(f'{seen[target]} and {photo} would both write the benchmark file '
                            f'{target}: paint one of them at a time')
        seen[target] = photo


def read_photo(painter, root, relative):
    """Return (relative, image, prepared) or (relative, None, why) for an unreadable file."""
    try:
        image = images.read_image(os.path.join(root, relative))
    except UserError as error:
        return relative, None, str(error)
    return relative, image, painter.prepare(image)


def paint_photos(painter, root, photos, options, bar):
    """Paint photos with reading and writing overlapped with the network; return skipped."""
    skipped = []
    reads = (read_photo(painter, root, relative) for relative in photos)
    with ThreadPoolExecutor(2) as writers:
        pending = []
        for batch in batched(background(reads), options.batch_size):
            readable = [item for item in batch if item[1] is not None]
            for relative, _, why in (item for item in batch if item[1] is None):
                tqdm.write(f'[!] skipping {relative}: {why}', file=sys.stderr)
                skipped.append(relative)
            if readable:
                predictions = painter.classify([prepared for _, _, prepared in readable])
                for (relative, image, _), prediction in zip(readable, predictions):
                    outputs = output_paths(options, relative, painter.benchmark)
                    pending.append(writers.submit(painter.write, image, prediction, outputs))
            finished = [f for f in pending if f.done()]
            for future in finished:      # a failed write stops the run here, not at the end
                future.result()
            pending = [f for f in pending if f not in finished]
            bar.update(len(batch))
        for future in pending:
            future.result()
    return skipped


def video_frames(capture):
    """Yield the frames of an open VideoCapture."""
    while True:
        ok, frame = capture.read()
        if not ok:
            return
        yield frame


def paint_video(painter, root, relative, options):
    """Paint a video frame by frame into an overlay video; return False if unreadable."""
    capture = cv2.VideoCapture(os.path.join(root, relative))
    fps = capture.get(cv2.CAP_PROP_FPS)
    size = (int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)), int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)))
    if not capture.isOpened() or fps <= 0 or min(size) <= 0:
        capture.release()
        return False
    target = output_paths(options, relative).overlay
    os.makedirs(os.path.dirname(target), exist_ok=True)
    stem, extension = os.path.splitext(target)
    partial = f'{stem}.part{extension}'
    fourcc = cv2.VideoWriter_fourcc(*VIDEO_FOURCC[extension.lower()])
    writer = cv2.VideoWriter(partial, fourcc, fps, size)
    if not writer.isOpened():
        capture.release()
        raise UserError(f'cannot write the video {target}: OpenCV cannot open it for writing')
    frames = 0
    total = int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) or None
    with tqdm(total=total, unit='frame', desc=relative, leave=False) as bar:
        for batch in batched(background(video_frames(capture)), options.batch_size):
            predictions = painter.classify([painter.prepare(frame) for frame in batch])
            for frame, prediction in zip(batch, predictions):
                writer.write(painter.draw(frame, prediction)[1])
            frames += len(batch)
            bar.update(len(batch))
    capture.release()
    writer.release()
    if frames == 0:
        files.remove_quietly(partial)
        return False
    written = count_frames(partial)
    if written != frames:
        files.remove_quietly(partial)
        raise UserError(f'the video {target} came out with {written} of its {frames} frames '
                        '(is the disk full?): removed, nothing of it is kept')
    os.replace(partial, target)
    return True


def count_frames(path):
    """Return how many frames a video file really holds (0 when it cannot be opened):
    counted by reading it through, as containers' own counts can be estimates."""
    capture = cv2.VideoCapture(path)
    count = 0
    while capture.isOpened() and capture.grab():
        count += 1
    capture.release()
    return count


def paint(painter, samples_dir, options):
    """Paint every input under `samples_dir`; return the number of skipped inputs."""
    root, inputs = list_inputs(samples_dir, options.recursive)
    if not inputs:
        raise UserError(f'{samples_dir} holds no png, jpg, jpeg, mp4, avi, mov or mkv files'
                        + ('' if options.recursive else ' (try --recursive)'))
    if options.shard:
        inputs = shard(inputs, *options.shard)
        print(f'[i] Shard {options.shard[0]}/{options.shard[1]}: {len(inputs)} input(s)')
    if options.benchmark_dir and painter.benchmark:
        refuse_photos_without_benchmark_names([r for r in inputs if not is_video(r)],
                                              painter.benchmark)
    done = [r for r in inputs if options.skip_existing and all(
        os.path.exists(p) for p in output_paths(options, r, painter.benchmark).paths())]
    todo = [r for r in inputs if r not in set(done)]
    if not options.overwrite:
        refuse_existing_outputs(todo, options, painter.benchmark)
    photos = [r for r in todo if not is_video(r)]
    skipped = []
    with tqdm(total=len(photos), unit='img', desc='painting') as bar:
        skipped += paint_photos(painter, root, photos, options, bar)
    for relative in (r for r in todo if is_video(r)):
        if not paint_video(painter, root, relative, options):
            tqdm.write(f'[!] skipping {relative}: cannot read it as a video', file=sys.stderr)
            skipped.append(relative)
    print(f'[i] {len(todo) - len(skipped)} processed, {len(skipped)} skipped, {len(done)} '
          f'already done -> {options.output_dir}')
    return len(skipped)
