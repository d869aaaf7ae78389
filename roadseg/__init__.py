"""The machinery under the scripts, one sub-package per stage of the data flow.

    core     errors and the one-line `[!]` exit, the quiet console, value checks, files,
             background threads, the machine
    data     the data-source contract, samples, batches, augmentation, photos and labels
    model    VGG16, its weight files, tensor names, the loss, precision, checkpoints
    predict  a photo through the network and back to its size; painting photos and videos
    score    the confusion matrix, evaluation, the official Cityscapes and KITTI scores
    train    the training graph, the epoch loop, optimizers, schedules, run settings
    export   SavedModel, ONNX and TFLite exports and running them without TensorFlow
    bench    the parts of bench.py, the speed benchmark

Imports point one way, down this list: a module imports from its own stage or the stages
listed before it, never after (tests/test_layout.py checks it). `train` comes after
`predict` and `score` because every epoch is scored with score's confusion matrix.

The FCN-8s head (fcnvgg.py) and the bilinear upsampling (upscale.py) sit at the top of the
repository, where the article names them; they belong to the model stage and import only
from core, data and model. The scripts and the data sources sit at the top too, and nothing
in this package imports them.
"""
