"""The settings of a training run: every field with its default, which ones a `--resume`
takes from the recorded run, their checks, and `settings.json`, which only this module
reads and writes. Settings files of older runs are read too: unknown keys are ignored and
missing ones take their defaults.

settings.json names no folder of its run absolutely: the TensorBoard folder is stored
relative to the run directory when it is inside it, and the run's name is wherever the file
is read from, so a copied or moved run directory is whole.
"""
import dataclasses
import json
import os
from dataclasses import dataclass, field
from typing import Optional

from roadseg.core.errors import UserError
from roadseg.core.files import write_json
from roadseg.data.augmentation import Augmentation
from roadseg.data.sources import optional
from roadseg.model import checkpoints
from roadseg.train.optimizers import Optimizer
from roadseg.train.schedules import SCHEDULES

SETTINGS_FILE = 'settings.json'
TENSORBOARD_DIR = 'tensorboard'    # inside the run directory, unless --tensorboard-dir


def setting(default=None, *, flag=True, kept=True, shown=True, factory=None):
    """Return a RunSettings field and what the scripts do with it.

    `flag`: main.py has a flag of the field's name (`--batch-size` for batch_size);
    `kept`: `main.py --resume` takes the recorded value unless the flag is given again;
    `shown`: main.py prints it when a run starts. FLAGS, KEPT_ON_RESUME and SHOWN below are
    read off these, so a new setting is one line here (and its flag's help in main.py).
    """
    metadata = {'flag': flag, 'kept': kept, 'shown': shown}
    if factory is not None:
        return field(default_factory=factory, metadata=metadata)
    return field(default=default, metadata=metadata)


RECORDED = {'flag': False, 'kept': False, 'shown': False}   # what the run found, not chose


@dataclass
class RunSettings:
    """What a run was trained with and on; main.py's flags of the same names set them.

    The fields are in the order main.py prints them.
    """

    name: Optional[str] = setting(kept=False)   # the run directory; see run_directory()
    data_source: str = setting('kitti')
    data_dir: Optional[str] = setting()         # default data/<data_source>
    backbone: str = setting('savedmodel', flag=False)  # savedmodel, keras, scratch(-bn)
    devices: Optional[list] = setting(kept=False)
    precision: str = setting('fp32')
    epochs: int = setting(50)                   # on --resume: the recorded total
    time_budget: float = setting(0.0)           # minutes; 0: none (train/time_budget.py)
    batch_size: int = setting(8)
    learning_rate: float = setting(1e-4)
    # How it trains (data/augmentation.py, schedules.py, optimizers.py, data/class_weights.py).
    lr_schedule: str = setting('constant')      # constant or poly
    warmup_epochs: float = setting(0.0)
    optimizer: str = setting('adam')            # adam or sgd
    momentum: float = setting(0.9)
    weight_decay: float = setting(0.0)
    class_weights: str = setting('none')        # none or balanced
    keep_prob: float = setting(0.5)
    valid_fraction: float = setting(0.1)
    train_splits: Optional[list] = setting()    # the data's own splits; None: the source's
    checkpoint_interval: int = setting(10)
    seed: int = setting(0)
    scale_range: Optional[list] = setting()     # [min, max] relative to image_size
    crop: Optional[list] = setting()            # [width, height]
    photometric: float = setting(0.0)
    tensorboard_dir: Optional[str] = setting()  # default <name>/tensorboard
    vgg_dir: str = setting('vgg', kept=False, shown=False)
    vgg_weights: Optional[str] = setting(kept=False, shown=False)  # '': Keras' cache
    vgg_width: float = setting(1.0, shown=False)
    class_weight_values: Optional[list] = setting(flag=False, shown=False)  # computed once
    widths: Optional[dict] = setting(flag=False, shown=False)  # {VGG16 layer: channels}
    # SHA-256 of the pretrained weight file the run started from (vgg.zip or Keras' HDF5)
    weights_sha256: Optional[str] = setting(flag=False, shown=False)
    # Recorded from the network that was built and the data source it was trained on.
    image_size: Optional[list] = field(default=None, metadata=RECORDED)   # [width, height]
    num_classes: Optional[int] = field(default=None, metadata=RECORDED)
    label_colors: dict = field(default_factory=dict, metadata=RECORDED)  # {class: (B, G, R)}
    ignores_pixels: bool = field(default=False, metadata=RECORDED)
    class_names: Optional[list] = field(default=None, metadata=RECORDED)
    label_ids: Optional[list] = field(default=None, metadata=RECORDED)
    # 2: paths inside the run directory are stored relative to it; 1 (older runs): to the
    # folder main.py ran in.
    version: int = field(default=2, metadata=RECORDED)

    def check(self):
        """Raise `UserError` for values no run can use."""
        for key in ('epochs', 'batch_size', 'checkpoint_interval'):
            if getattr(self, key) < 1:
                raise UserError(f'--{key.replace("_", "-")} must be at least 1')
        if not 0 < self.keep_prob <= 1:
            raise UserError('--keep-prob must be in (0, 1]')
        if not self.learning_rate > 0:
            raise UserError('--learning-rate must be positive')
        if not 0 < self.vgg_width <= 4:
            raise UserError('--vgg-width must be in (0, 4]')
        if self.lr_schedule not in SCHEDULES:
            raise UserError(f'--lr-schedule must be one of {", ".join(SCHEDULES)}')
        if not 0 <= self.warmup_epochs <= self.epochs:
            raise UserError(f'--warmup-epochs must be between 0 and --epochs ({self.epochs})')
        if self.class_weights not in CLASS_WEIGHTINGS:
            raise UserError(f'--class-weights must be one of {", ".join(CLASS_WEIGHTINGS)}')
        if self.train_splits is not None and not self.train_splits:
            raise UserError('--train-splits names no split: give names such as train,val')
        if not self.time_budget >= 0:
            raise UserError(f'--time-budget must be minutes of training, 0 or more, not '
                            f'{self.time_budget}')
        augmentation(self)
        Optimizer(self.optimizer, self.momentum, self.weight_decay)


CLASS_WEIGHTINGS = ('none', 'balanced')


def augmentation(settings):
    """Return the augmentation.Augmentation of a run's settings (checked)."""
    return Augmentation(tuple(settings.scale_range) if settings.scale_range else None,
                        tuple(settings.crop) if settings.crop else None,
                        float(settings.photometric))


FIELDS = tuple(f.name for f in dataclasses.fields(RunSettings))
FLAGS = tuple(f.name for f in dataclasses.fields(RunSettings) if f.metadata['flag'])
KEPT_ON_RESUME = tuple(f.name for f in dataclasses.fields(RunSettings) if f.metadata['kept'])
SHOWN = tuple(f.name for f in dataclasses.fields(RunSettings) if f.metadata['shown'])


def run_directory(name, data_source):
    """Return the run directory: `name` (--name), else runs/<data source>."""
    return name or os.path.join('runs', data_source or RunSettings.data_source)


def resolve(flags, recorded=None):
    """Return the settings of a run: the given flags ({field: value or None}), else what
    the recorded run kept (KEPT_ON_RESUME), else the defaults; then the derived paths."""
    values = {}
    if recorded is not None:
        values = {k: getattr(recorded, k) for k in KEPT_ON_RESUME
                  if getattr(recorded, k) is not None}
    values.update({k: v for k, v in flags.items() if v is not None})
    settings = RunSettings(**values)
    settings.name = run_directory(settings.name, settings.data_source)
    settings.data_dir = settings.data_dir or os.path.join('data', settings.data_source)
    settings.tensorboard_dir = (settings.tensorboard_dir
                                or os.path.join(settings.name, TENSORBOARD_DIR))
    return settings


def with_source(settings, source):
    """Return `settings` with what the run records of a loaded data source."""
    return dataclasses.replace(
        settings, image_size=[int(v) for v in source.image_size],
        num_classes=int(source.num_classes),
        label_colors={int(k): tuple(int(c) for c in v)
                      for k, v in sorted(source.label_colors.items())},
        ignores_pixels=bool(optional(source, 'ignores_pixels')),
        class_names=_list_or_none(optional(source, 'class_names')),
        label_ids=_list_or_none(optional(source, 'label_ids')))


def _list_or_none(values):
    """Return `values` as a list of plain Python values, or None."""
    if values is None:
        return None
    return [v.item() if hasattr(v, 'item') else v for v in values]


def to_json(settings):
    """Return the JSON-ready dict of `settings` (label colour keys become strings)."""
    values = dataclasses.asdict(settings)
    values['label_colors'] = {str(k): [int(c) for c in v]
                              for k, v in sorted(settings.label_colors.items())}
    return values


def from_json(values):
    """Return the RunSettings of a settings.json dict, old or new."""
    known = {k: v for k, v in values.items() if k in FIELDS}
    known.setdefault('version', 1)
    known['label_colors'] = {int(k): tuple(v)
                             for k, v in (known.get('label_colors') or {}).items()}
    return RunSettings(**known)


def write_settings(run_dir, settings):
    """Write the run's settings.json atomically, with paths inside the run made relative."""
    values = to_json(dataclasses.replace(settings, version=2))
    values['name'] = os.path.basename(os.path.abspath(run_dir))
    tensorboard = os.path.abspath(settings.tensorboard_dir
                                  or os.path.join(run_dir, TENSORBOARD_DIR))
    inside = os.path.relpath(tensorboard, os.path.abspath(run_dir))
    values['tensorboard_dir'] = tensorboard if inside.startswith(os.pardir) else inside
    write_json(os.path.join(run_dir, SETTINGS_FILE), values, sort_keys=True)


def is_inside(path, folder):
    """Return whether `path` is `folder` or inside it, compared as written."""
    path, folder = os.path.normpath(path), os.path.normpath(folder)
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def located(settings, run_dir):
    """Return `settings` read from `run_dir`, with the run's paths pointing into it."""
    stored = settings.tensorboard_dir
    if stored is None:
        tensorboard = os.path.join(run_dir, TENSORBOARD_DIR)
    elif settings.version < 2 and settings.name and is_inside(stored, settings.name):
        # Older runs stored `<name>/tensorboard` as main.py was given the name.
        tensorboard = os.path.join(run_dir, os.path.relpath(stored, settings.name))
    elif os.path.isabs(stored) or settings.version < 2:
        tensorboard = stored
    else:
        tensorboard = os.path.join(run_dir, stored)
    return dataclasses.replace(settings, name=run_dir, tensorboard_dir=os.path.normpath(
        tensorboard), version=2)


def read_settings(run_dir):
    """Return the run's RunSettings; a missing run or settings file is a `UserError`."""
    if os.path.exists(run_dir) and not os.path.isdir(run_dir):
        raise UserError(f'--name {run_dir} is a file, not a run directory')
    if not os.path.isdir(run_dir):
        raise UserError(f'no run directory {run_dir}: train one with main.py --name '
                        f'{run_dir}')
    path = os.path.join(run_dir, SETTINGS_FILE)
    try:
        with open(path) as handle:
            values = json.load(handle)
    except (OSError, ValueError) as error:
        raise UserError(f'cannot read the run settings {path} ({error}): is {run_dir} '
                        'a run directory written by main.py?') from None
    if not isinstance(values, dict):
        raise UserError(f'{path} is not a JSON object: is {run_dir} a run directory written '
                        'by main.py?')
    return located(from_json(values), run_dir)


def is_run_directory(path):
    """Return whether `path` holds a run's settings.json or checkpoint state file."""
    return any(os.path.exists(os.path.join(path, name)) for name in (SETTINGS_FILE,
                                                                     checkpoints.STATE_FILE))
