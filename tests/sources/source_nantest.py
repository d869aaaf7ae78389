"""A source to the bare contract whose second epoch holds a NaN label."""
import numpy as np


class NanSource:
    image_size = (64, 32)
    num_classes = 2
    label_colors = {0: (0, 0, 0), 1: (0, 0, 255)}

    def load_data(self, data_dir, valid_fraction):
        self.num_training, self.num_validation, self.epochs = 4, 2, 0

    def batches(self, count, poison):
        rng = np.random.RandomState(count)
        images = rng.uniform(0, 255, [count, 32, 64, 3]).astype(np.float32)
        labels = np.zeros([count, 32, 64, 2], np.float32)
        labels[:, :16, :, 0] = labels[:, 16:, :, 1] = 1
        if poison:
            labels[0, 0, 0, 0] = np.nan
        return [(images, labels)]

    def train_generator(self, batch_size):
        self.epochs += 1
        return self.batches(self.num_training, poison=self.epochs >= 2)

    def valid_generator(self, batch_size):
        return self.batches(self.num_validation, poison=False)


def get_source():
    return NanSource()
