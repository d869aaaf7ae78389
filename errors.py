"""Problems the user can fix, and how every script reports them: one `[!]` line, exit 1."""
import sys


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
