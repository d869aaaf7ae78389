"""The training loop's stop request (epochs.py): Ctrl-C and SIGTERM alike."""
import os
import signal
from types import SimpleNamespace

import pytest

from roadseg.train import epochs


@pytest.mark.parametrize('signum', [signal.SIGINT, signal.SIGTERM])
def test_the_first_signal_asks_to_stop_and_the_second_aborts(signum, capsys):
    previous = signal.getsignal(signum)
    with epochs.StopRequest() as stop:
        assert not stop.requested
        os.kill(os.getpid(), signum)
        assert stop.requested
        assert 'saving a checkpoint' in capsys.readouterr().out
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signum)
    assert signal.getsignal(signum) is previous      # the handlers are given back


@pytest.mark.parametrize('completed, counted', [(True, 2), (False, 1)])
def test_a_stop_after_an_epochs_last_step_counts_that_epoch(completed, counted, monkeypatch,
                                                            capsys):
    """The request may land after epoch 2's last step (then epoch 2 is done and a resume
    must not train it again) or in its middle (then only epoch 1 is)."""
    stop = epochs.StopRequest()

    def fake_epoch(session, trainer, source, settings, writer, epoch, stop_request, *rest):
        if epoch == 2:
            stop_request.requested = True
            return None, completed
        return 'confusion', True
    saved = []
    monkeypatch.setattr(epochs, 'run_epoch', fake_epoch)
    monkeypatch.setattr(epochs.checkpoints, 'make_saver', lambda: None)
    monkeypatch.setattr(epochs, 'save_checkpoint',
                        lambda session, saver, trainer, run_dir, done: saved.append(done) or
                        f'{run_dir}/model-{done}')
    settings = SimpleNamespace(learning_rate=1e-3, lr_schedule='poly', warmup_epochs=0,
                               epochs=4, batch_size=2, name='run', checkpoint_interval=10)
    source = SimpleNamespace(num_training=8)
    confusion = epochs.run_epochs(None, None, source, settings, None, 1, stop)
    assert saved == [counted] and confusion == 'confusion'
    assert f'Interrupted after {counted} complete epoch(s): saved run/model-{counted}' in \
        capsys.readouterr().out
