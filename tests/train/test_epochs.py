"""The training loop (epochs.py): its stop request (Ctrl-C and SIGTERM alike), the epochs
it counts, and --time-budget fitting the epochs to the minutes given."""
import os
import signal
from types import SimpleNamespace

import pytest

from roadseg.train import epochs, time_budget


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
                               epochs=4, batch_size=2, name='run', checkpoint_interval=10,
                               time_budget=0)
    source = SimpleNamespace(num_training=8)
    confusion = epochs.run_epochs(None, None, source, settings, None, 1, stop)
    assert saved == [counted] and confusion == 'confusion'
    assert f'Interrupted after {counted} complete epoch(s): saved run/model-{counted}' in \
        capsys.readouterr().out


def test_a_time_budget_lowers_the_epochs_to_what_fits_and_refits_the_schedule(monkeypatch,
                                                                              capsys):
    """Epochs of 100 s on a fake clock, 5 minutes, 10 epochs asked: after epoch 1, 200 s
    hold two more; the third epoch is the last, its schedule ends at step 3 * 4, and the
    run's settings.json records 3."""
    clock = SimpleNamespace(now=1000.0)
    monkeypatch.setattr(time_budget.time, 'monotonic', lambda: clock.now)
    trained, saved, written = [], [], []

    def fake_epoch(session, trainer, source, settings, writer, epoch, stop, first_epoch,
                   schedule):
        trained.append((epoch, schedule.total_steps))
        clock.now += 100
        return 'confusion', True
    monkeypatch.setattr(epochs, 'run_epoch', fake_epoch)
    monkeypatch.setattr(epochs.checkpoints, 'make_saver', lambda: None)
    monkeypatch.setattr(epochs, 'save_checkpoint',
                        lambda session, saver, trainer, run_dir, done: saved.append(done))
    monkeypatch.setattr(epochs.run_settings, 'write_settings',
                        lambda run_dir, settings: written.append(settings.epochs))
    settings = SimpleNamespace(learning_rate=1e-3, lr_schedule='poly', warmup_epochs=1,
                               epochs=10, batch_size=2, name='run', checkpoint_interval=10,
                               time_budget=5)
    epochs.run_epochs(None, None, SimpleNamespace(num_training=8), settings, None, 1,
                      epochs.StopRequest())
    assert trained == [(1, 40), (2, 12), (3, 12)]
    assert settings.epochs == 3 and written == [3] and saved == [3]
    assert '[i] Time budget 5 min: epochs take 100 s here, so the run trains 3 epoch(s)' in \
        capsys.readouterr().out


@pytest.mark.parametrize('elapsed, done, planned, expected', [
    (200, 1, 30, 18),      # 3400 s left hold 17 epochs of 200 s
    (200, 1, 10, 10),      # never above --epochs
    (3500, 10, 30, 10),    # an epoch of 350 s no longer fits: stop at the done ones
    (4000, 10, 30, 10),    # over budget already: never below the done ones
    (0, 0, 30, 30),        # nothing measured yet
])
def test_the_epochs_within_a_budget(elapsed, done, planned, expected):
    assert time_budget.epochs_within_budget(3600, elapsed, done, planned) == expected
