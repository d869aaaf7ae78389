"""Numeric precision of a session: fp32, or TensorFlow's automatic mixed precision rewrites.

bf16 uses the oneDNN bfloat16 rewrite on CPUs with bfloat16 instructions (avx512_bf16 or
AMX); fp16 uses the CUDA rewrite, with loss scaling in training, on a GPU. Variables and
checkpoints stay fp32 either way: the rewrites only change what the kernels compute in.
"""
import tensorflow.compat.v1 as tf
from tensorflow.core.protobuf import rewriter_config_pb2

from roadseg.core.machine import cpu_flags

PRECISIONS = ('fp32', 'bf16', 'fp16')
BF16_CPU_FLAGS = ('avx512_bf16', 'amx_bf16')


def has_gpu():
    """Return whether TensorFlow sees a GPU."""
    return bool(tf.config.list_physical_devices('GPU'))


def gpu_line():
    """Return the one `[i]` line naming the GPUs TensorFlow sees, or None on a machine
    without one."""
    gpus = tf.config.list_physical_devices('GPU')
    if not gpus:
        return None
    named = []
    for gpu in gpus:
        model = tf.config.experimental.get_device_details(gpu).get('device_name')
        named.append(f'{gpu.name.replace("/physical_device:", "")}'
                     + (f' ({model})' if model else ''))
    return f'[i] GPUs: {", ".join(named)}'


def report_gpus():
    """Print the `[i]` line naming the GPUs, where there are any."""
    line = gpu_line()
    if line:
        print(line)


def resolve(requested, flags=None, gpu=None):
    """Return the precision that will really be used, printing one `[i]` line on fallback."""
    flags = cpu_flags() if flags is None else flags
    gpu = has_gpu() if gpu is None else gpu
    if requested == 'bf16' and not set(BF16_CPU_FLAGS) & flags:
        print('[i] bf16 needs a CPU with avx512_bf16 or AMX instructions and this one has '
              'neither: running in fp32')
        return 'fp32'
    if requested == 'fp16' and not gpu:
        print('[i] fp16 mixed precision needs a CUDA GPU and TensorFlow sees none: running '
              'in fp32')
        return 'fp32'
    return requested


def session_config(precision):
    """Return a ConfigProto that turns on the graph rewrite for `precision`."""
    config = tf.ConfigProto()
    rewrites = config.graph_options.rewrite_options
    if precision == 'bf16':
        rewrites.auto_mixed_precision_onednn_bfloat16 = rewriter_config_pb2.RewriterConfig.ON
    elif precision == 'fp16':
        rewrites.auto_mixed_precision = rewriter_config_pb2.RewriterConfig.ON
        config.gpu_options.allow_growth = True
    return config
