"""How scripts report problems (errors.py): one `[!]` line, the right exit status."""
import threading

import pytest

from roadseg.core.errors import ArgumentParser, UserError, run_script


def test_a_user_error_is_one_line_and_exit_one(capsys):
    def failing():
        raise UserError('the data directory x does not exist')
    with pytest.raises(SystemExit) as stopped:
        run_script(failing)
    assert stopped.value.code == 1
    assert capsys.readouterr().err == '[!] the data directory x does not exist\n'


def test_the_scripts_own_status_is_kept():
    for status, code in ((None, 0), (0, 0), (1, 1)):
        with pytest.raises(SystemExit) as stopped:
            run_script(lambda: status)
        assert stopped.value.code == code


def test_an_unhandled_interrupt_is_one_line_and_status_130(capsys):
    def interrupted():
        raise KeyboardInterrupt
    with pytest.raises(SystemExit) as stopped:
        run_script(interrupted)
    assert stopped.value.code == 130
    assert capsys.readouterr().err.startswith('[!] interrupted')


def test_a_bad_command_line_ends_with_one_problem_line_and_exit_two(capsys):
    parser = ArgumentParser(prog='tool.py')
    parser.add_argument('--count', type=int)
    with pytest.raises(SystemExit) as stopped:
        parser.parse_args(['--count', 'x'])
    assert stopped.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines[0].startswith('usage: tool.py')
    assert lines[-1] == "[!] tool.py: argument --count: invalid int value: 'x'"


def test_a_thread_error_is_one_line_not_a_traceback(capsys):
    previous = threading.excepthook
    try:
        with pytest.raises(SystemExit):
            def start_failing_thread():
                worker = threading.Thread(target=lambda: 1 / 0, name='worker-1')
                worker.start()
                worker.join()
            run_script(start_failing_thread)
    finally:
        threading.excepthook = previous
    err = capsys.readouterr().err
    assert err == '[!] worker-1: ZeroDivisionError: division by zero\n'
