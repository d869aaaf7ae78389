"""Paint photos and dashcam videos with class colours; evaluate a run; export it for serving.

    python infer.py --name runs/kitti --samples-dir photos/ --output-dir painted/
    python infer.py --name runs/kitti --evaluate
    python infer.py --name runs/kitti --export exported/

Each painted output has its input's resolution: the image is resized to the run's image
size for the network and the class map is resized back by nearest neighbour.
"""
import os
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')  # TensorFlow's C++ start-up notes
import argparse
import queue
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np
import tensorflow.compat.v1 as tf
from tqdm import tqdm

import evaluation
import export
import fcnvgg
import precision
import resizing
import runs
import utils

IMAGE_EXTENSIONS = ('.png', '.jpg', '.jpeg')
VIDEO_FOURCC = {'.mp4': 'mp4v', '.mov': 'mp4v', '.avi': 'MJPG', '.mkv': 'XVID'}
PREFETCH = 8          # items read ahead of the network


def parse_args(argv=None):
    """Return the command line arguments."""
    parser = argparse.ArgumentParser(
        description='Segment photos and videos with a trained run; evaluate or export it.')
    add = parser.add_argument
    add('--name', required=True, help='run directory written by main.py')
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
    add('--skip-existing', action='store_true', help='leave inputs whose outputs all exist')
    add('--shard', type=parse_shard, metavar='K/N', help='paint only the K-th of N disjoint '
        'parts of the sorted input list (K = 1..N), so N machines or GPUs share a folder')
    add('--precision', choices=precision.PRECISIONS, help="fp32, bf16 or fp16 (default: the "
        "run's); falls back to fp32 where the hardware lacks it")
    add('--evaluate', action='store_true', help="score the data source's validation split: "
        'pixel accuracy, per-class IoU, mIoU; precision, recall, F1 and MaxF for two classes; '
        'the official Cityscapes score where the source gives label ids')
    add('--export', metavar='DIR', help='write a TF SavedModel with a serving signature '
        '(BGR images of any size in; class map and probabilities out)')
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


def shard(items, k, n):
    """Return the K-th of N disjoint parts of `items` (every N-th item from the K-th)."""
    return items[k - 1::n]


def validate_args(args):
    """Raise `UserError` for arguments no run can use."""
    if not (args.samples_dir or args.evaluate or args.export):
        raise utils.UserError('nothing to do: give --samples-dir (with --output-dir), '
                              '--evaluate or --export')
    if args.samples_dir and not args.output_dir:
        raise utils.UserError('--samples-dir needs --output-dir for the painted outputs')
    if args.batch_size < 1:
        raise utils.UserError('--batch-size must be at least 1')
    if args.samples_dir and not os.path.exists(args.samples_dir):
        raise utils.UserError(f'--samples-dir {args.samples_dir} does not exist')


def list_inputs(samples_dir, recursive):
    """Return (root, relative paths of photos and videos), sorted; a video file is its own."""
    if os.path.isfile(samples_dir):
        return os.path.dirname(samples_dir), [os.path.basename(samples_dir)]
    paths = []
    for extension in IMAGE_EXTENSIONS + tuple(VIDEO_FOURCC):
        paths += utils.find_files(samples_dir, extension, recursive)
    return samples_dir, sorted(os.path.relpath(p, samples_dir) for p in paths)


def is_video(path):
    """Return whether `path` names a video by its extension."""
    return os.path.splitext(path)[1].lower() in VIDEO_FOURCC


def output_paths(output_dir, relative, masks):
    """Return the output files of one input: the overlay, and with `masks` the two masks."""
    overlay = os.path.join(output_dir, relative)
    paths = [overlay]
    if masks and not is_video(relative):
        stem = os.path.splitext(overlay)[0]
        paths += [stem + '_classes.png', stem + '_colors.png']
    return paths


def background(iterable, depth=PREFETCH):
    """Yield the items of `iterable`, produced by a thread running up to `depth` ahead."""
    items, done = queue.Queue(maxsize=depth), object()

    def produce():
        try:
            for item in iterable:
                items.put(item)
        except BaseException as error:  # handed to the consumer, raised there
            items.put(error)
        items.put(done)
    threading.Thread(target=produce, daemon=True).start()
    while (item := items.get()) is not done:
        if isinstance(item, BaseException):
            raise item
        yield item


def batched(iterable, size):
    """Yield lists of up to `size` consecutive items."""
    batch = []
    for item in iterable:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


class Painter:
    """A restored model and what drawing its class maps needs."""

    def __init__(self, session, model, settings):
        self.session, self.model = session, model
        self.prepare = resizing.PhotoResizer(session, settings['image_size'])
        self.colors = runs.label_colors(settings)

    def classify(self, prepared):
        """Return the class maps [B, H, W] of a list of prepared images."""
        return self.session.run(self.model.classes, {self.model.image_input: np.stack(prepared),
                                                     self.model.keep_prob: 1.0})

    def draw(self, image, classes):
        """Return (class map, colour mask, overlay), all at the image's resolution.

        The same pixels as resizing.resize_nearest, utils.class_map_to_colors and
        utils.blend_labels (half photo, half class colour, rounded half to even), computed
        on 8-bit values with one gather per axis and one OpenCV blend: for a 2048x1024
        photo 11 ms instead of 77 ms with float arrays, which matters once the network is
        fast.
        """
        height, width = image.shape[:2]
        rows = resizing.nearest_indices(classes.shape[0], height)
        cols = resizing.nearest_indices(classes.shape[1], width)

        def enlarge(values):
            return np.take(np.take(values, rows, axis=0), cols, axis=1)
        # Colours are looked up on the network's small map, then enlarged with it.
        colours, known = utils.color_lookup(classes, self.colors)
        full, colours = enlarge(classes), enlarge(colours)
        if image.dtype != np.uint8 or image.shape != colours.shape:
            return full, colours, utils.blend_labels(image, full, self.colors)
        overlay = cv2.addWeighted(image, 0.5, colours, 0.5, 0)
        if not known.all():
            keep = ~enlarge(known)
            overlay[keep] = image[keep]
        return full, colours, overlay

    def overlay(self, image, classes):
        """Return (class map at the image's resolution, the blended overlay)."""
        full, _, overlay = self.draw(image, classes)
        return full, overlay

    def write(self, image, classes, paths):
        """Write the overlay and, when asked, the class-index and colour masks."""
        full, colours, overlay = self.draw(image, classes)
        utils.write_image(paths[0], overlay)
        if len(paths) == 3:
            dtype = np.uint8 if len(self.colors) <= 256 else np.uint16
            utils.write_image(paths[1], full.astype(dtype))
            utils.write_image(paths[2], colours)


def read_photo(painter, root, relative):
    """Return (relative, image, prepared) or (relative, None, why) for an unreadable file."""
    try:
        image = utils.read_image(os.path.join(root, relative))
    except utils.UserError as error:
        return relative, None, str(error)
    return relative, image, painter.prepare(image)


def paint_photos(painter, root, photos, args, bar):
    """Paint photos with reading and writing overlapped with the network; return skipped."""
    skipped = []
    reads = (read_photo(painter, root, relative) for relative in photos)
    with ThreadPoolExecutor(2) as writers:
        pending = []
        for batch in batched(background(reads), args.batch_size):
            readable = [item for item in batch if item[1] is not None]
            for relative, _, why in (item for item in batch if item[1] is None):
                tqdm.write(f'[!] skipping {relative}: {why}', file=sys.stderr)
                skipped.append(relative)
            if readable:
                classes = painter.classify([prepared for _, _, prepared in readable])
                for (relative, image, _), class_map in zip(readable, classes):
                    paths = output_paths(args.output_dir, relative, args.masks)
                    os.makedirs(os.path.dirname(paths[0]), exist_ok=True)
                    pending.append(writers.submit(painter.write, image, class_map, paths))
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


def paint_video(painter, root, relative, args):
    """Paint a video frame by frame into an overlay video; return False if unreadable."""
    capture = cv2.VideoCapture(os.path.join(root, relative))
    fps = capture.get(cv2.CAP_PROP_FPS)
    size = (int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)), int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)))
    if not capture.isOpened() or fps <= 0 or min(size) <= 0:
        capture.release()
        return False
    target = output_paths(args.output_dir, relative, False)[0]
    os.makedirs(os.path.dirname(target), exist_ok=True)
    stem, extension = os.path.splitext(target)
    partial = f'{stem}.part{extension}'
    fourcc = cv2.VideoWriter_fourcc(*VIDEO_FOURCC[extension.lower()])
    writer = cv2.VideoWriter(partial, fourcc, fps, size)
    frames = 0
    total = int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) or None
    with tqdm(total=total, unit='frame', desc=relative, leave=False) as bar:
        for batch in batched(background(video_frames(capture)), args.batch_size):
            classes = painter.classify([painter.prepare(frame) for frame in batch])
            for frame, class_map in zip(batch, classes):
                writer.write(painter.overlay(frame, class_map)[1])
            frames += len(batch)
            bar.update(len(batch))
    capture.release()
    writer.release()
    if frames == 0:
        os.remove(partial)
        return False
    os.replace(partial, target)
    return True


def paint(painter, args):
    """Paint every input under --samples-dir; return the number of skipped inputs."""
    root, inputs = list_inputs(args.samples_dir, args.recursive)
    if not inputs:
        raise utils.UserError(f'{args.samples_dir} holds no png, jpg, jpeg, mp4, avi, mov or '
                              'mkv files' + ('' if args.recursive else ' (try --recursive)'))
    if args.shard:
        inputs = shard(inputs, *args.shard)
        print(f'[i] Shard {args.shard[0]}/{args.shard[1]}: {len(inputs)} input(s)')
    done = [r for r in inputs if args.skip_existing and
            all(os.path.exists(p) for p in output_paths(args.output_dir, r, args.masks))]
    todo = [r for r in inputs if r not in set(done)]
    photos = [r for r in todo if not is_video(r)]
    skipped = []
    with tqdm(total=len(photos), unit='img', desc='painting') as bar:
        skipped += paint_photos(painter, root, photos, args, bar)
    for relative in (r for r in todo if is_video(r)):
        if not paint_video(painter, root, relative, args):
            tqdm.write(f'[!] skipping {relative}: cannot read it as a video', file=sys.stderr)
            skipped.append(relative)
    print(f'[i] {len(todo) - len(skipped)} processed, {len(skipped)} skipped, {len(done)} '
          f'already done -> {args.output_dir}')
    return len(skipped)


def main(argv=None):
    """Parse, validate, restore the run, then paint, evaluate and export as asked."""
    args = parse_args(argv)
    utils.quiet_opencv()
    validate_args(args)
    settings = runs.read_settings(args.name)
    checkpoint = runs.select_checkpoint(args.name, args.checkpoint)
    mode = precision.resolve(args.precision or settings.get('precision', 'fp32'))
    print(f'[i] Run {args.name}, checkpoint {os.path.basename(checkpoint)}, precision {mode}')
    skipped = 0
    graph = tf.Graph()
    with graph.as_default(), tf.Session(graph=graph,
                                        config=precision.session_config(mode)) as session:
        model = fcnvgg.FCNVGG(session)
        model.build_from_metagraph(checkpoint + '.meta', checkpoint,
                                   bf16_weights=mode == 'bf16')
        if args.samples_dir:
            skipped = paint(Painter(session, model, settings), args)
        if args.evaluate:
            evaluation.evaluate(session, model, settings, args, checkpoint)
    if args.export:
        export.export_saved_model(checkpoint, settings, args.export)
    return 1 if skipped else 0


if __name__ == '__main__':
    utils.run_script(main)
