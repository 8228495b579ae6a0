"""tools/deployment/export_onnx.py on a small A² recognizer: the ONNX graph
(and the TorchScript trace) give PyTorch's scores, at a second batch size
too."""
import re

import numpy as np
import onnxruntime as ort
import pytest
import torch

from a2mm.apis import ScoresWrapper, init_model
from tests.data.tiny_a2 import (CONFIG, config_value, load_tool,
                                save_checkpoint)

# B V C T H W: one view of the test pipeline's clip.
SHAPE = (1, 1, 3, config_value('test_pipeline.1.clip_len'), 32, 32)
NUM_CLASSES = config_value('model.cls_head.num_classes')


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    """Random weights, A² blocks not at identity (zero_init=False in the
    config), so the blocks change the scores being compared."""
    torch.manual_seed(0)
    return save_checkpoint(
        init_model(CONFIG),
        str(tmp_path_factory.mktemp('export') / 'tiny.pth'))


def test_onnx_and_torchscript_match_pytorch(checkpoint, tmp_path, capsys):
    tool = load_tool('tools/deployment/export_onnx.py')
    onnx_file, ts_file = str(tmp_path / 'tiny.onnx'), str(tmp_path / 'tiny.pt')
    code = tool.main([
        CONFIG, checkpoint, '--shape', *map(str, SHAPE), '--out', onnx_file,
        '--torchscript', ts_file
    ])
    out = capsys.readouterr().out
    assert code == 0, out
    onnx_diff = float(re.search(r'PyTorch max abs diff: (\S+)', out)[1])
    ts_diff = float(re.search(r'TorchScript: .* max abs diff: (\S+)', out)[1])
    assert onnx_diff < 1e-4 and ts_diff < 1e-4

    # Independent check: batch 3 (dynamic axis), scores depend on the input.
    model = ScoresWrapper(init_model(CONFIG, checkpoint)).eval()
    x = torch.randn(3, *SHAPE[1:])
    with torch.no_grad():
        ref = model(x).numpy()
    session = ort.InferenceSession(
        onnx_file, providers=['CPUExecutionProvider'])
    got = session.run(None, {'inputs': x.numpy()})[0]
    assert got.shape == (3, NUM_CLASSES)
    np.testing.assert_allclose(got, ref, atol=1e-4, rtol=1e-4)
    assert np.abs(ref[0] - ref[1]).max() > 1e-4
    traced = torch.jit.load(ts_file)
    with torch.no_grad():
        np.testing.assert_allclose(traced(x).numpy(), ref, atol=1e-5)


def test_softmax_static_batch(checkpoint, tmp_path, capsys):
    tool = load_tool('tools/deployment/export_onnx.py')
    onnx_file = str(tmp_path / 'prob.onnx')
    shape = (2, 2) + SHAPE[2:]
    assert tool.main([
        CONFIG, checkpoint, '--shape', *map(str, shape), '--out', onnx_file,
        '--softmax', '--static-batch'
    ]) == 0
    assert 'batch sizes [2]' in capsys.readouterr().out
    session = ort.InferenceSession(
        onnx_file, providers=['CPUExecutionProvider'])
    probs = session.run(None, {'inputs': np.zeros(shape, np.float32)})[0]
    assert probs.shape == (4, NUM_CLASSES)
    np.testing.assert_allclose(probs.sum(1), np.ones(4), atol=1e-5)


def test_bad_shape(checkpoint):
    tool = load_tool('tools/deployment/export_onnx.py')
    with pytest.raises(ValueError, match='--shape'):
        tool.main([CONFIG, checkpoint, '--shape', '1', '3', '32'])
