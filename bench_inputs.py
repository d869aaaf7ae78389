"""The inputs the benchmark generates: road-like photos, Cityscapes-style colour labels, and
the folders of them that the infer and loader parts read."""
import os

import cv2
import numpy as np
from tqdm import tqdm

import source_cityscapes
from images import write_image


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


def cityscapes_colors():
    """Return the Cityscapes source's {class: BGR colour} and its 'unlabeled' class."""
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


def write_photos(folder, count, size, seed=0):
    """Write `count` photos of `size` (width, height) as PNG; return their names."""
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(seed)
    names = [f'photo_{index:04d}.png' for index in range(count)]
    for name in names:
        write_image(os.path.join(folder, name), scene_photo(rng, *size))
    return names


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
        write_image(os.path.join(images, f'{stem}_leftImg8bit.png'), scene_photo(rng, *size))
        write_image(os.path.join(labels, f'{stem}_gtFine_color.png'),
                    colour_label(rng, size, colors))
