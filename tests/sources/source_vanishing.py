"""A source to the bare contract whose files vanish while it is read: its second training
batch raises FileNotFoundError, as a source's own code does when a file was deleted."""
import numpy as np


class Vanishing:
    image_size = (64, 32)
    num_classes = 2
    label_colors = {0: (0, 0, 0), 1: (0, 0, 255)}

    def load_data(self, data_dir, valid_fraction):
        self.num_training, self.num_validation = 8, 2

    def batch(self, count):
        labels = np.zeros([count, 32, 64, 2], np.float32)
        labels[..., 0] = 1
        return np.zeros([count, 32, 64, 3], np.float32), labels

    def train_generator(self, batch_size):
        yield self.batch(4)
        raise FileNotFoundError(2, 'No such file or directory', '/data/photos/0004.png')

    def valid_generator(self, batch_size):
        yield self.batch(2)


def get_source():
    return Vanishing()
