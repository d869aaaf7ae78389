"""The machine a figure comes from: the CPU's model and feature flags, read from the kernel
without TensorFlow (so that scripts can say it before, or without, loading TensorFlow)."""
import platform

CPUINFO = '/proc/cpuinfo'


def cpu_flags(cpuinfo=CPUINFO):
    """Return the set of CPU feature flags the kernel reports (empty where unknown)."""
    try:
        with open(cpuinfo) as handle:
            for line in handle:
                if line.startswith('flags'):
                    return set(line.split(':', 1)[1].split())
    except OSError:
        pass
    return set()


def cpu_model(cpuinfo=CPUINFO):
    """Return the CPU's model name from /proc/cpuinfo, else what `platform` knows."""
    try:
        with open(cpuinfo) as handle:
            for line in handle:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or 'unknown CPU'
