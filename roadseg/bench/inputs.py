"""The inputs the benchmark generates: road-like photos, Cityscapes-style colour labels, and
the folders of them that the infer and loader parts read; Cityscapes-layout streets with
label-id, instance-id and colour files for the evaluate part (and the tests)."""
import os

import cv2
import numpy as np
from tqdm import tqdm

from roadseg.data import cityscapes_labels, sources
from roadseg.data.images import write_image

WIDTH, HEIGHT = 2048, 1024       # Cityscapes photos


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
    source = sources.load_data_source('cityscapes')   # by name, as the scripts do
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


def cityscapes_scene(seed):
    """Return (label ids, instance ids) of a 2048x1024 street: sky, buildings, road with
    a parking patch, thin poles, a polegroup, small signs and lights, cars (one with a
    license plate, drawn as the car beneath it, as the official tools write it) and
    people, and ego vehicle at the bottom."""
    rng = np.random.default_rng(seed)
    ids = np.full((HEIGHT, WIDTH), 11, np.uint8)            # building
    ids[:300] = 23                                          # sky
    ids[560:] = 7                                           # road
    ids[560:620, :400] = 8                                  # sidewalk
    ids[700:760, 1500:1700] = 9                             # parking, ignored
    ids[960:] = 1                                           # ego vehicle, ignored
    instances = ids.astype(np.int32)
    for k, x in enumerate(range(100, WIDTH, 230)):
        ids[250:600, x:x + 3 + k % 3] = 17                  # thin poles, 3-5 pixels
        ids[250:270, x + 8:x + 20] = 20 if k % 2 else 19    # a small sign or light
    ids[250:600, 2000:2006] = 18                            # polegroup, ignored
    for k in range(4):
        x = 300 + 400 * k + int(rng.integers(0, 50))
        box = (slice(620, 720), slice(x, x + 160))
        ids[box] = 26
        instances[box] = 26000 + k
        person = (slice(600, 700), slice(x + 180, x + 200))
        ids[person] = 24
        instances[person] = 24000 + k
    instances[ids != instances // 1000] = ids[ids != instances // 1000]
    return ids, instances


def write_cityscapes_split(root, split, city, count, seed=0):
    """Write `count` Cityscapes samples of one city: photo, labelIds, instanceIds and
    colour files that agree; return the photos' folder."""
    photos = os.path.join(root, 'leftImg8bit', split, city)
    labels = os.path.join(root, 'gtFine', split, city)
    os.makedirs(photos, exist_ok=True)
    os.makedirs(labels, exist_ok=True)
    palette = np.zeros((256, 3), np.uint8)
    for label in cityscapes_labels.LABELS:
        if label.id >= 0:
            palette[label.id] = label.color[::-1]
    for k in range(count):
        ids, instances = cityscapes_scene(seed + k)
        stem = f'{city}_{k:06d}_000019'
        noise = np.random.default_rng(k).integers(0, 40, (HEIGHT, WIDTH, 3))
        photo = np.clip(palette[ids].astype(int) + noise, 0, 255).astype(np.uint8)
        write_image(os.path.join(photos, f'{stem}_leftImg8bit.png'), photo)
        write_image(os.path.join(labels, f'{stem}_gtFine_labelIds.png'), ids)
        write_image(os.path.join(labels, f'{stem}_gtFine_instanceIds.png'),
                    instances.astype(np.uint16))
        write_image(os.path.join(labels, f'{stem}_gtFine_color.png'), palette[ids])
    return photos
