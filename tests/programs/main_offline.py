"""main.py on a machine whose network is down: the VGG download fails by name resolution.

    python main_offline.py MAIN.PY-ARGUMENTS...
"""
import sys
import urllib.error

import main
from roadseg.core.errors import run_script
from roadseg.model import weight_files


def offline(url, destination):
    """Stand in for `weight_files.fetch` when no name resolves."""
    raise urllib.error.URLError('[Errno -3] Temporary failure in name resolution')


weight_files.fetch = offline
run_script(lambda: main.main(sys.argv[1:]))
