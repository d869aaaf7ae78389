"""What a script's console shows: its own `[i]` and `[!]` lines and progress bars.

TensorFlow logs from C++ as it loads (oneDNN notes, and CUDA probing that reports an
"error" on every machine without a GPU) and from Python (deprecation warnings). None of it
is about the user's command, so it stays off the screen unless asked for with `--verbose`
(every script has the flag) or the environment variable ROADSEG_VERBOSE=1.
"""
import contextlib
import logging
import os
import sys

VERBOSE_FLAG = '--verbose'
VERBOSE_VARIABLE = 'ROADSEG_VERBOSE'
# TensorFlow's C++ log level once its logging has started: errors that matter reach the
# user as `[!]` lines through the Python exceptions that carry them.
QUIET_CPP_LEVEL = '3'


def verbose(argv=None, environ=None):
    """Return whether the user asked for TensorFlow's own logging."""
    argv = sys.argv[1:] if argv is None else argv
    environ = os.environ if environ is None else environ
    return VERBOSE_FLAG in argv or environ.get(VERBOSE_VARIABLE, '') not in ('', '0')


@contextlib.contextmanager
def native_stderr_silenced():
    """Send what C and C++ code writes to standard error to /dev/null for the block;
    Python's own writes are flushed first and the stream is restored after."""
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def quiet_tensorflow(argv=None):
    """Load TensorFlow with its start-up logging off the console, unless verbose.

    TF_CPP_MIN_LOG_LEVEL only governs what TensorFlow logs after absl's logging has
    started; the notes printed while its libraries load, and the CUDA probe of the first
    device listing, come before that. So both happen here, with the native standard error
    silenced. A no-op once TensorFlow is loaded (a user's own level is kept too)."""
    if verbose(argv) or 'tensorflow' in sys.modules:
        return
    os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', QUIET_CPP_LEVEL)
    with native_stderr_silenced():
        import tensorflow
        tensorflow.config.list_physical_devices()
    logging.getLogger('tensorflow').setLevel(logging.ERROR)
