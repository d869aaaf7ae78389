"""The training loop's stop request (epochs.py): Ctrl-C and SIGTERM alike."""
import os
import signal

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
