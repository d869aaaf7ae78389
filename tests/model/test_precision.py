"""Choosing the numeric precision and the session's graph rewrite."""
from tensorflow.core.protobuf import rewriter_config_pb2

from roadseg.model import precision

ON = rewriter_config_pb2.RewriterConfig.ON


def test_bf16_needs_bf16_instructions(capsys):
    assert precision.resolve('bf16', flags={'avx512f', 'avx512_bf16'}, gpu=False) == 'bf16'
    assert precision.resolve('bf16', flags={'amx_bf16', 'amx_tile'}, gpu=False) == 'bf16'
    assert capsys.readouterr().out == ''
    assert precision.resolve('bf16', flags={'avx2', 'avx512f'}, gpu=False) == 'fp32'
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and out[0].startswith('[i] bf16 needs') and 'fp32' in out[0]


def test_fp16_needs_a_gpu(capsys):
    assert precision.resolve('fp16', flags=set(), gpu=True) == 'fp16'
    assert precision.resolve('fp16', flags={'avx512_bf16'}, gpu=False) == 'fp32'
    assert capsys.readouterr().out.startswith('[i] fp16 mixed precision needs a CUDA GPU')
    assert precision.resolve('fp32', flags=set(), gpu=False) == 'fp32'


def test_session_config_turns_on_the_matching_rewrite():
    rewrites = {p: precision.session_config(p).graph_options.rewrite_options
                for p in precision.PRECISIONS}
    assert rewrites['bf16'].auto_mixed_precision_onednn_bfloat16 == ON
    assert rewrites['bf16'].auto_mixed_precision != ON
    assert rewrites['fp16'].auto_mixed_precision == ON
    assert rewrites['fp16'].auto_mixed_precision_onednn_bfloat16 != ON
    assert rewrites['fp32'].auto_mixed_precision != ON
    assert rewrites['fp32'].auto_mixed_precision_onednn_bfloat16 != ON
