"""Build FCN-8s on a backbone whose download fails as it would offline.

    python build_offline.py {savedmodel|keras} TARGET

TARGET is the vgg.zip folder or the HDF5 path. The fake download leaves a partial file, as
a broken connection would; the project must remove it and print one `[!]` line.
"""
import sys
import urllib.error

import tensorflow.compat.v1 as tf

from fcnvgg import FCNVGG
from roadseg.core.errors import run_script
from roadseg.model import weight_files


def offline(url, destination):
    """Stand in for `weight_files.fetch` on a machine without network."""
    with open(destination + '.part', 'wb') as partial:
        partial.write(b'partial')
    raise urllib.error.URLError('[Errno 101] Network is unreachable')


weight_files.fetch = offline
backbone, target = sys.argv[1], sys.argv[2]
kwargs = {'weights_file': target} if backbone == 'keras' else {}
with tf.Graph().as_default() as graph, tf.Session(graph=graph) as session:
    run_script(lambda: FCNVGG(session).build_from_vgg(target, 2, backbone=backbone, **kwargs))
