"""One training step on one device and on two (the CPU split in two), from the same
initial values: prints the two losses, how far the step moved the variables and how far the
two results differ, as JSON. Run in its own process: the CPU must be split before
TensorFlow starts its runtime.

    python one_step_on_replicas.py {scratch|scratch-bn|savedmodel} [VGG_DIR]

With batch normalisation it also prints how far the step moved the moving averages, which
each device updates from its own half of the batch and the devices average.
"""
import json
import sys

import numpy as np
import tensorflow.compat.v1 as tf

from roadseg.train import devices
from roadseg.train.run_settings import RunSettings
from roadseg.train.trainer import build_trainer

names = devices.choose_devices(2)
settings = RunSettings(num_classes=3, learning_rate=1e-3, backbone=sys.argv[1], vgg_width=1 / 16,
                       vgg_dir=sys.argv[2] if len(sys.argv) > 2 else 'vgg')
rng = np.random.RandomState(0)
images = rng.uniform(0, 255, [4, 32, 64, 3]).astype(np.float32)
labels = np.eye(3, dtype=np.float32)[rng.randint(0, 3, [4, 32, 64])]
labels[0, :, :40] = 0          # don't-care pixels, unevenly spread over the two halves
initial, results = None, {}
for replicas in (1, 2):
    strategy, _ = devices.make_strategy(names[:replicas])
    graph = tf.Graph()
    config_proto = devices.configure_session(tf.ConfigProto(), names[:replicas], strategy)
    with graph.as_default(), tf.Session(graph=graph, config=config_proto) as session:
        trainer = build_trainer(session, settings, strategy)
        variables = tf.trainable_variables()
        with strategy.scope():
            if initial is None:
                initial = session.run(variables)
            else:   # one run: each run after a graph change re-sends the whole graph
                session.run([variable.assign(value)
                             for variable, value in zip(variables, initial)])
        feed = {trainer.images: images, trainer.labels: labels, trainer.keep_prob: 1.0}
        if trainer.training is not None:
            feed[trainer.training] = True
        averages = [v for v in tf.global_variables() if 'moving_' in v.name]
        loss = session.run(trainer.step_loss, feed)
        moved = max([float(np.abs(a - (0 if 'mean' in v.name else 1)).max())
                     for v, a in zip(averages, session.run(averages))] or [0.0])
        results[replicas] = (float(loss), session.run(variables), strategy.num_replicas_in_sync,
                             [v.name for v in variables], moved)
(loss1, values1, n1, names1, moved1), (loss2, values2, n2, names2, moved2) = \
    results[1], results[2]
assert (n1, n2) == (1, 2) and names1 == names2, (n1, n2)
changed = max(float(np.abs(a - b).max()) for a, b in zip(values1, initial))
difference = max(float(np.abs(a - b).max()) for a, b in zip(values1, values2))
print(json.dumps({'loss1': loss1, 'loss2': loss2, 'changed': changed,
                  'difference': difference, 'variables': len(values1),
                  'averages_moved': [moved1, moved2],
                  'first_kernel': initial[0].ravel().tolist()}))
