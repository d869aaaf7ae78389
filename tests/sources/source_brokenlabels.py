"""A source to the bare contract (plain generators, no threads, no ignores_pixels) whose
labels are broken on purpose: training sample 1 has three two-hot pixels, training sample 2
two all-zero pixels, validation sample 0 one row of 0.5 / 0.5."""
import numpy as np


class Broken:
    image_size = (64, 32)
    num_classes = 3
    label_colors = {0: (0, 0, 0), 1: (0, 255, 0), 2: (0, 0, 255)}

    def load_data(self, data_dir, valid_fraction):
        self.num_training, self.num_validation = 4, 2

    def _labels(self, count, broken):
        labels = np.zeros((count, 32, 64, 3), np.float32)
        labels[..., 1] = 1
        for sample, y, x, row in broken:
            labels[sample, y, x] = row
        return labels

    def train_generator(self, batch_size):
        labels = self._labels(4, [(1, 2, 5, (1, 1, 0)), (1, 2, 9, (0, 1, 1)),
                                  (1, 30, 0, (1, 1, 1)), (2, 0, 63, (0, 0, 0)),
                                  (2, 31, 1, (0, 0, 0))])
        images = np.full((4, 32, 64, 3), 128, np.float32)
        for start in range(0, 4, batch_size):
            yield images[start:start + batch_size], labels[start:start + batch_size]

    def valid_generator(self, batch_size):
        labels = self._labels(2, [(0, 4, 4, (0.5, 0.5, 0))])
        yield np.zeros((2, 32, 64, 3), np.float32), labels


def get_source():
    return Broken()
