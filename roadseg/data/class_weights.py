"""Per-class loss weights by median frequency balancing (Eigen and Fergus; SegNet).

A class's frequency is its pixel count divided by the labelled pixels of the training
images it appears in; its weight is the median of the frequencies over its own. Rare
classes (poles, signs) weigh more, common ones (road, sky) less. "Don't care" pixels
count nowhere; a class absent from the training split weighs 1.
"""
import numpy as np
from tqdm import tqdm

from roadseg.data import sources


def class_pixel_counts(label_batches, num_classes):
    """Return (pixels of each class, labelled pixels of the images holding it) over
    one-hot label batches [B, H, W, num_classes]."""
    pixels = np.zeros(num_classes, np.float64)
    image_pixels = np.zeros(num_classes, np.float64)
    for labels in label_batches:
        counts = np.asarray(labels, np.float32).sum(axis=(1, 2), dtype=np.float64)
        pixels += counts.sum(axis=0)
        image_pixels += ((counts > 0) * counts.sum(axis=1, keepdims=True)).sum(axis=0)
    return pixels, image_pixels


def median_frequency_weights(pixels, image_pixels):
    """Return the weight of each class: median frequency / its frequency (1 if absent)."""
    present = pixels > 0
    frequency = np.divide(pixels, image_pixels, out=np.zeros_like(pixels), where=present)
    if not present.any():
        return np.ones_like(pixels)
    median = np.median(frequency[present])
    return np.where(present, median / np.where(present, frequency, 1), 1.0)


def balanced_class_weights(source, name, batch_size, class_names):
    """Return median-frequency weights (a list of floats) from one pass over the source's
    training split, as the network sees it (augmented, if the source augments); print them."""
    batches = sources.split_batches(source, name, 'training', batch_size)
    with tqdm(total=source.num_training, unit='img', desc='class frequencies',
              leave=False) as bar:
        def labels():
            for _, label_batch in batches:
                bar.update(len(label_batch))
                yield label_batch
        weights = median_frequency_weights(*class_pixel_counts(labels(), source.num_classes))
    listed = ', '.join(f'{class_names[i]} {w:.3g}' for i, w in enumerate(weights))
    print(f'[i] class weights (median frequency balancing over {source.num_training} '
          f'training samples): {listed}')
    return [float(w) for w in weights]
