"""Problems the user can fix, and how every script reports them: one `[!]` line, exit 1
(2 for a bad command line, as argparse has it)."""
import argparse
import sys
import threading

from roadseg.core import console


class UserError(Exception):
    """A problem the user can fix; scripts print it as one `[!]` line and exit non-zero."""


class ArgumentParser(argparse.ArgumentParser):
    """argparse's parser whose command-line errors end with one `[!]` line, exit status 2,
    with every script's `--verbose` flag."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.add_argument(console.VERBOSE_FLAG, action='store_true',
                          help="show TensorFlow's own logging too (as does the environment "
                          f"variable {console.VERBOSE_VARIABLE}=1)")

    def error(self, message):
        """Print the usage, then the problem as the last line, and exit 2."""
        self.print_usage(sys.stderr)
        print(f'[!] {self.prog}: {message}', file=sys.stderr)
        sys.exit(2)


# Threads whose errors their library raises again in the main thread (TensorFlow's event
# writer): a traceback from the thread itself would only repeat them.
RERAISED_BY_MAIN_THREAD = ('EventLoggerThread',)


def quiet_thread_errors(args):
    """threading.excepthook: one `[!]` line for a thread's error instead of a traceback."""
    if args.thread is not None and args.thread.name in RERAISED_BY_MAIN_THREAD:
        return
    name = args.thread.name if args.thread is not None else 'a thread'
    print(f'[!] {name}: {args.exc_type.__name__}: {args.exc_value}', file=sys.stderr)


def run_script(main):
    """Run a script's `main()`, turning a `UserError` into one `[!]` line and exit status 1.

    `main` returns the exit status (None counts as 0). An interrupt that the script does not
    handle itself (a second Ctrl-C) ends with one line too, and the shell's status 130.
    """
    threading.excepthook = quiet_thread_errors
    try:
        status = main()
    except UserError as error:
        print(f'[!] {error}', file=sys.stderr)
        status = 1
    except KeyboardInterrupt:
        print('[!] interrupted: stopped at once, nothing more was saved', file=sys.stderr)
        status = 130
    sys.exit(status or 0)
