"""The machine a figure comes from (machine.py), read without TensorFlow."""
import subprocess
import sys

from conftest import ROOT
from roadseg.core import machine


def test_cpu_flags_are_read_from_cpuinfo(tmp_path):
    cpuinfo = tmp_path / 'cpuinfo'
    cpuinfo.write_text('processor\t: 0\nflags\t\t: fpu sse avx512_bf16 amx_tile\n')
    assert machine.cpu_flags(str(cpuinfo)) == {'fpu', 'sse', 'avx512_bf16', 'amx_tile'}
    assert machine.cpu_flags(str(tmp_path / 'missing')) == set()


def test_cpu_model_is_the_model_name_line(tmp_path):
    cpuinfo = tmp_path / 'cpuinfo'
    cpuinfo.write_text('processor\t: 0\nmodel name\t: AMD EPYC 9R14\nflags\t: fpu\n')
    assert machine.cpu_model(str(cpuinfo)) == 'AMD EPYC 9R14'


def test_reproduce_and_check_data_source_answer_help_without_tensorflow():
    for script in ('reproduce', 'check_data_source'):
        code = (f'import sys; sys.argv = ["{script}.py", "--help"]; import runpy\n'
                f'try:\n    runpy.run_path("{script}.py", run_name="__main__")\n'
                'except SystemExit:\n    pass\n'
                'print("tensorflow" in sys.modules)')
        result = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                                cwd=ROOT, timeout=60)
        assert result.stdout.strip().splitlines()[-1] == 'False', script
