"""Helpers shared by the scripts: errors the user can fix, and variable initialisation."""
import sys

import tensorflow.compat.v1 as tf


class UserError(Exception):
    """A problem the user can fix; scripts print it as one `[!]` line and exit non-zero."""


def run_script(main):
    """Run a script's `main()`, turning a `UserError` into one `[!]` line and exit status 1.

    `main` returns the exit status (None counts as 0).
    """
    try:
        status = main()
    except UserError as error:
        print(f'[!] {error}', file=sys.stderr)
        status = 1
    sys.exit(status or 0)


def initialize_uninitialized_variables(session):
    """Initialise only the global variables that nothing has loaded yet.

    Pretrained weights restored from a SavedModel or assigned from a file stay as they are;
    the global initialiser would overwrite them.
    """
    variables = tf.global_variables()
    if not variables:
        return []
    flags = session.run([tf.is_variable_initialized(v) for v in variables])
    pending = [v for v, done in zip(variables, flags) if not done]
    if pending:
        session.run(tf.variables_initializer(pending))
    return pending
