"""Cityscapes with the 19 classes its benchmark trains and scores (the official train ids).

Same layout and files as the `cityscapes` source (source_cityscapes.py, whose code this
shares). Labels come from `*_gtFine_labelIds.png`: each of the 19 evaluated labels is its
train id's class, and every other label (void, the ignored classes such as parking or
polegroup, license plate) is "don't care", an all-zero row. Without label-id files the
colour files are read: the 19 classes' colours, everything else don't care (polegroup,
which shares pole's colour, then reads as pole). The class map's label ids go into the
official score and the benchmark's submission files (infer.py --benchmark-results).

The network works at half the files' resolution, 1024x512; train it on crops of the
full-resolution files (main.py --scale-range, --crop: see the README's recipes).
"""
import source_cityscapes
from roadseg.data import cityscapes_labels

TRAINED = sorted((label for label in cityscapes_labels.LABELS if 0 <= label.train_id < 255),
                 key=lambda label: label.train_id)


class Cityscapes19(source_cityscapes.Cityscapes):
    """Cityscapes' 19 training classes, in train-id order."""

    image_size = (1024, 512)
    num_classes = len(TRAINED)
    class_names = [label.name for label in TRAINED]
    label_ids = [label.id for label in TRAINED]
    label_colors = {label.train_id: label.color[::-1] for label in TRAINED}
    unknown_class = -1      # other colours: don't care
    ignores_pixels = True
    class_of_id = source_cityscapes.id_lookup(label_ids, black_class=-1)


def get_source():
    """The 19-class Cityscapes data source (see roadseg/data/sources.py for the contract)."""
    return Cityscapes19()
