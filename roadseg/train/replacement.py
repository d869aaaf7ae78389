"""`main.py --force`: replacing a run directory without losing the old run on the way, and
putting things right after a --force run that was killed outright (SIGKILL, power loss)."""
import glob
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
            self.aside = f'{aside_prefix(self.run_dir)}{os.getpid()}'
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


def aside_prefix(run_dir):
    """Return the name an old run is moved to while --force replaces it, without the pid."""
    return f'{run_dir.rstrip(os.sep)}.replaced-'


def process_alive(pid):
    """Return whether a process with this pid exists (one of another user's counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def abandoned_asides(run_dir):
    """Return the `<run_dir>.replaced-<pid>` folders whose --force run is no longer running."""
    prefix = aside_prefix(run_dir)
    found = []
    for path in glob.glob(glob.escape(prefix) + '*'):
        pid = path[len(prefix):]
        if os.path.isdir(path) and pid.isdigit() and not process_alive(int(pid)):
            found.append(path)
    return sorted(found)


def recover_abandoned(run_dir):
    """Finish what a killed `--force` run left half done, printing one `[i]` line per folder.

    An old run moved aside holds checkpoints; the killed run's folder holds none until its
    first checkpoint. So: an aside without checkpoints is a killed run's leftover and goes;
    an old run comes back when `run_dir` has no checkpoint (the new run died before its
    first), and goes when `run_dir` has one (only deleting it was left to do)."""
    for aside in abandoned_asides(run_dir):
        if not present_checkpoints(aside):
            shutil.rmtree(aside)
            print(f'[i] removed {aside}: left by a stopped --force run, it held no checkpoint')
        elif present_checkpoints(run_dir):
            shutil.rmtree(aside)
            print(f'[i] removed {aside}, the run that --force replaced: {run_dir} has saved '
                  'its own checkpoints since')
        else:
            shutil.rmtree(run_dir, ignore_errors=True)
            os.rename(aside, run_dir)
            print(f'[i] restored {run_dir} from {aside}: the --force run that replaced it was '
                  'stopped before its first checkpoint')
