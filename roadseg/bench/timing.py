"""The benchmark's timing harness: what machine the figures come from, the sessions they run
in, and timed rounds that set aside runs other processes disturbed.

Every variant of a part runs in the same rounds, one after the other, and each figure is the
best of --repeats runs. The machine may be shared: each timed run waits for other processes
to go idle, and a run during which they (or the virtual machine's host) kept more than
--quiet-limit cores busy is set aside and repeated.
"""
import os
import platform
import statistics
import time

import cv2
import numpy as np
import tensorflow
from tqdm import tqdm

from roadseg.core.machine import cpu_flags, cpu_model
from roadseg.model import precision

# CPU flags shown in the report: the instructions the fp32 and bf16 figures depend on.
SHOWN_FLAGS = ('avx512f', 'avx512_bf16', 'amx_bf16', 'amx_tile', 'avx512_fp16')


# --------------------------------------------------------------------------- machine

def machine_info():
    """Return what the figures depend on: CPU model, cores, its bf16/AMX flags, versions."""
    flags = cpu_flags()
    return {'cpu': cpu_model(), 'cores': os.cpu_count(),
            'flags': {flag: flag in flags for flag in SHOWN_FLAGS},
            'gpu': precision.has_gpu(),
            'tensorflow': tensorflow.__version__,
            'onednn': os.environ.get('TF_ENABLE_ONEDNN_OPTS', '1') != '0',
            'python': platform.python_version(), 'numpy': np.__version__,
            'opencv': cv2.__version__,
            'load_average_start': list(os.getloadavg())}


def mixed_precision(info):
    """Return the mixed precision this machine supports ('bf16', 'fp16') or None."""
    if info['gpu']:
        return 'fp16'
    if set(precision.BF16_CPU_FLAGS) & {f for f, on in info['flags'].items() if on}:
        return 'bf16'
    return None


def session_config(precision_name, args):
    """Return the project's ConfigProto for a precision, with the benchmark's threads."""
    config = precision.session_config(precision_name)
    if args.intra_threads:
        config.intra_op_parallelism_threads = args.intra_threads
    if args.inter_threads:
        config.inter_op_parallelism_threads = args.inter_threads
    return config


# --------------------------------------------------------------------------- timing

def cpu_counters():
    """Return (busy CPU seconds of the whole machine, of this process), or None off Linux.

    The machine's count includes steal time: a virtual machine's host running others.
    """
    try:
        with open('/proc/stat') as handle:
            values = [int(v) for v in handle.readline().split()[1:9]]
    except (OSError, ValueError):
        return None
    user, nice, system, _, _, irq, softirq, steal = values + [0] * (8 - len(values))
    ticks = os.sysconf('SC_CLK_TCK')
    own = os.times()
    return (user + nice + system + irq + softirq + steal) / ticks, own.user + own.system


def others_busy(before, after, seconds):
    """Return the cores other processes kept busy on average between two cpu_counters()."""
    if before is None or after is None or seconds <= 0:
        return 0.0
    return max(0.0, (after[0] - before[0]) - (after[1] - before[1])) / seconds


def wait_for_quiet(args, window=0.25):
    """Wait, up to --quiet-wait seconds, for a moment when other processes are idle; the
    waits of the whole run together stop at --quiet-budget seconds (args.waited counts)."""
    allowed = min(args.quiet_wait, args.quiet_budget - args.waited)
    if allowed <= 0:
        return
    started = time.monotonic()
    while time.monotonic() - started < allowed:
        before = cpu_counters()
        time.sleep(window)
        if others_busy(before, cpu_counters(), window) <= args.quiet_limit:
            break
    args.waited += time.monotonic() - started


def budget_spent(args):
    """Return whether the run's waiting budget (--quiet-budget) is used up."""
    return args.waited >= args.quiet_budget


def timed_run(fn, args):
    """Run `fn` once after waiting for a quiet moment; return (seconds, whether other
    processes kept more than --quiet-limit cores busy meanwhile)."""
    wait_for_quiet(args)
    before = cpu_counters()
    started = time.perf_counter()
    fn()
    seconds = time.perf_counter() - started
    after = cpu_counters()
    disturbed = others_busy(before, after, seconds) * seconds > \
        max(args.quiet_limit * seconds, 0.03)
    return seconds, disturbed


def still_pending(clean, disturbed, args):
    """Return whether a variant needs another timed run: fewer than --repeats undisturbed
    ones, and, once the waiting budget is spent, fewer than --repeats runs at all."""
    if len(clean) >= args.repeats:
        return False
    return not budget_spent(args) or len(clean) + len(disturbed) < args.repeats


def interleaved(variants, args, warmup=1, desc='rounds'):
    """Time each callable of {name: fn} in rounds, every variant once per round.

    Each runs `warmup` untimed times first (graph optimisation, kernel set-up). Each
    timed run waits for a quiet moment first (up to --quiet-wait seconds); a run during
    which other processes (or the host, as steal time) still kept more than --quiet-limit
    cores busy on average is set aside, and the variant runs again in a later round, up to
    --max-rounds rounds, or until the waiting budget is spent. Returns {name: [seconds]}:
    the undisturbed samples, or all of them when none was. args.samples_log records what
    was set aside and which variants' figures are from a busy machine only ('busy').
    """
    for fn in variants.values():
        for _ in range(warmup):
            fn()
    clean = {name: [] for name in variants}
    disturbed = {name: [] for name in variants}
    max_rounds = args.max_rounds or 3 * args.repeats
    with tqdm(total=args.repeats * len(variants), desc=desc, unit='run', leave=False) as bar:
        for _ in range(max_rounds):
            pending = [name for name in variants
                       if still_pending(clean[name], disturbed[name], args)]
            if not pending:
                break
            for name in pending:
                seconds, was_disturbed = timed_run(variants[name], args)
                if was_disturbed:
                    disturbed[name].append(seconds)
                else:
                    clean[name].append(seconds)
                    bar.update(1)
    args.samples_log.append({'part': desc, 'clean': {k: len(v) for k, v in clean.items()},
                             'set_aside': {k: len(v) for k, v in disturbed.items()},
                             'busy': [k for k in variants if not clean[k]]})
    return {name: clean[name] or disturbed[name] for name in variants}


def summary(seconds):
    """Return {'best', 'median', 'all'} of a list of seconds."""
    return {'best': min(seconds), 'median': statistics.median(seconds), 'all': seconds}
