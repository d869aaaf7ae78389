"""The names of the graph's tensors and ops: the contract between the modules that build the
graph (vgg16.py, fcnvgg.py, roadseg/train/trainer.py) and those that find them again in a
restored checkpoint (infer.py, roadseg/export/savedmodel.py, main.py --resume).
tests/model/test_tensor_names.py checks every name in a freshly built graph and in a restored
one.
"""

# The backbone (any of the three weight sources).
IMAGE_INPUT = 'image_input'   # float32 [B, H, W, 3], BGR 0..255; the mean is subtracted inside
KEEP_PROB = 'keep_prob'       # dropout keep probability of fc6 and fc7; 1.0 unless fed
LAYER3 = 'layer3_out'         # pool3, stride 8
LAYER4 = 'layer4_out'         # pool4, stride 16
LAYER7 = 'layer7_out'         # fc7 after dropout, stride 32
BACKBONE = (IMAGE_INPUT, KEEP_PROB, LAYER3, LAYER4, LAYER7)
# Only in a batch-normalised VGG16 (--vgg-init scratch-bn): bool, false unless fed; true on
# training steps, where the batch's statistics are used and the moving averages updated.
IS_TRAINING = 'is_training'

# The FCN-8s head.
LOGITS = 'logits'             # float32 [B, H, W, num_classes]
SOFTMAX = 'softmax'           # class probabilities, same shape
CLASSES = 'classes'           # int32 [B, H, W], the class map
HEAD = (LOGITS, SOFTMAX, CLASSES)

# Training (main.py builds them; --resume finds them again).
LABELS = 'labels'                      # one-hot float32 [B, H, W, num_classes]
LEARNING_RATE = 'learning_rate'        # float32 scalar, fed every step
STEP_LOSS = 'step_loss'                # the training step's loss (runs the update)
VALID_LABELS = 'valid_labels'          # one-hot labels of a validation batch
VALID_LOSS = 'valid_loss'              # the validation batch's loss
EPOCHS_COMPLETED = 'epochs_completed'  # int64, stored in every checkpoint
EPOCHS_DONE_VALUE = 'epochs_done_value'  # fed to SET_EPOCHS_DONE before saving
SET_EPOCHS_DONE = 'set_epochs_done'    # an op, not a tensor
EPOCHS_DONE_VARIABLE = 'epochs_done'   # the variable behind the two above
# Only in runs trained on several devices: the whole batch, split across the devices.
BATCH_IMAGES = 'batch_images'
BATCH_KEEP_PROB = 'batch_keep_prob'
BATCH_IS_TRAINING = 'batch_is_training'   # and with batch normalisation, this one
TRAINING = (LABELS, LEARNING_RATE, STEP_LOSS, VALID_LABELS, VALID_LOSS, EPOCHS_COMPLETED,
            EPOCHS_DONE_VALUE)
REPLICATED_TRAINING = (BATCH_IMAGES, BATCH_KEEP_PROB)


def tensor(graph, name):
    """Return the first output of the op `name` in `graph`."""
    return graph.get_tensor_by_name(f'{name}:0')
