"""Devices for training: one, several GPUs, or the CPU split into logical devices.

Several devices train synchronously with TensorFlow's own `MirroredStrategy`: every
variable is mirrored, each device runs the step on its part of the global batch, and the
gradients are summed across devices before one update.
"""
import json
import os

import tensorflow as tf2
import tensorflow.compat.v1 as tf

from roadseg.core.errors import UserError


def cluster_worker():
    """Return (worker addresses, this worker's index) from TF_CONFIG, or None for one worker."""
    try:
        config = json.loads(os.environ.get('TF_CONFIG') or '{}')
        workers = config.get('cluster', {}).get('worker', [])
        index = int(config.get('task', {}).get('index', 0))
    except (ValueError, AttributeError, TypeError) as error:
        raise UserError(f'TF_CONFIG is not valid cluster JSON: {error}') from None
    if len(workers) < 2:
        return None
    if not 0 <= index < len(workers):
        raise UserError(f'TF_CONFIG task index {index} is not one of the '
                        f'{len(workers)} workers')
    return workers, index


def parse_devices(text):
    """Return a device count (int) or a list of device names from --devices."""
    if text.isdigit():
        if int(text) < 1:
            raise UserError('--devices must be at least 1')
        return int(text)
    return [name.strip() for name in text.split(',') if name.strip()]


def choose_devices(requested):
    """Return the device names to train on.

    None: every visible GPU, else the CPU. A count N: the first N GPUs, or on a machine
    without GPUs the CPU split into N logical devices (which must happen before TensorFlow
    starts its runtime). A list: those names.
    """
    gpus = tf2.config.list_physical_devices('GPU')
    if isinstance(requested, list):
        return requested
    if requested is None:
        return [f'/gpu:{i}' for i in range(len(gpus))] or ['/cpu:0']
    if gpus:
        if requested > len(gpus):
            raise UserError(f'--devices {requested}: TensorFlow sees {len(gpus)} GPU(s)')
        return [f'/gpu:{i}' for i in range(requested)]
    if requested > 1:
        cpu = tf2.config.list_physical_devices('CPU')[0]
        try:
            tf2.config.set_logical_device_configuration(
                cpu, [tf2.config.LogicalDeviceConfiguration()] * requested)
        except RuntimeError as error:
            raise UserError(f'cannot split the CPU into {requested} devices: {error}') \
                from None
    return [f'/cpu:{i}' for i in range(requested)]


def make_strategy(devices):
    """Return (strategy, session target) for `devices`, or for the TF_CONFIG cluster.

    One device: the default strategy and a local session. Several: MirroredStrategy.
    Several workers in TF_CONFIG: MultiWorkerMirroredStrategy, whose constructor starts
    this worker's gRPC server; the session runs on that server.
    """
    cluster = cluster_worker()
    if cluster:
        workers, index = cluster
        print(f'[i] worker {index} of {len(workers)} in the TF_CONFIG cluster {workers}')
        return tf.distribute.experimental.MultiWorkerMirroredStrategy(), f'grpc://{workers[index]}'
    if len(devices) == 1:
        return tf.distribute.get_strategy(), ''
    return tf.distribute.MirroredStrategy(devices), ''


def replica_part(tensor):
    """Return this replica's consecutive part of a batch (called inside a replica step)."""
    context = tf.distribute.get_replica_context()
    replicas, index = context.num_replicas_in_sync, context.replica_id_in_sync_group
    if replicas == 1:
        return tensor
    size = tf.shape(tensor)[0]
    return tensor[index * size // replicas:(index + 1) * size // replicas]


def configure_session(config, devices, strategy=None):
    """Return a session ConfigProto for `devices` and the strategy's collective ops.

    A Session made with an explicit ConfigProto sees one CPU device unless told more.
    """
    cpus = sum(1 for name in devices if 'cpu' in name.lower())
    if cpus > 1:
        config.device_count['CPU'] = cpus
    return strategy.update_config_proto(config) if strategy else config
