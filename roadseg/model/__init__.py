"""The model: VGG16 and its weight files (vgg.zip, Keras HDF5), tensor names, the loss, mixed
precision, bf16 weight copies and a run's checkpoints.
"""
