"""`main.py --force`: replacing a run directory without losing the old run on the way."""
import os
import shutil

from roadseg.model.checkpoints import present_checkpoints


class Replacement:
    """`main.py --force`: the old run is moved aside, not deleted, until the new run has
    saved its first checkpoint; a new run that stops before that puts it back as it was.

    Use as a context manager around the new run; call `commit()` once it has a checkpoint.
    """

    def __init__(self, run_dir):
        self.run_dir = run_dir
        self.aside = None

    def __enter__(self):
        if os.path.isdir(self.run_dir):
            self.aside = f'{self.run_dir.rstrip(os.sep)}.replaced-{os.getpid()}'
            os.rename(self.run_dir, self.aside)
            print(f'[i] --force: the old run is kept in {self.aside} until the new one has '
                  'saved a checkpoint')
        return self

    def commit(self):
        """The new run has a checkpoint: delete the old one."""
        if self.aside:
            shutil.rmtree(self.aside)
            self.aside = None

    def __exit__(self, kind, error, trace):
        if self.aside and kind is None and present_checkpoints(self.run_dir):
            self.commit()
        elif self.aside:        # only files of the new run are removed
            shutil.rmtree(self.run_dir, ignore_errors=True)
            os.rename(self.aside, self.run_dir)
            print(f'[i] --force: the new run saved no checkpoint; the old run is back in '
                  f'{self.run_dir} as it was')
            self.aside = None
        return False
