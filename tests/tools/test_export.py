"""tools/deployment/export_onnx.py on a small A² recognizer: the ONNX graph
(and the torch.export program) give PyTorch's scores, at a second batch size
too, through the exporters torch 2.13 recommends; the deprecated
TorchScript-based ONNX exporter stays available on request."""
import importlib.util
import re
import warnings

import numpy as np
import onnxruntime as ort
import pytest
import torch

from a2mm.apis import ScoresWrapper, init_model
from a2mm.apis.export import (SOFTMAX_METADATA_KEY, has_dynamo_onnx_exporter,
                              has_torch_export)
from tests.helpers.configs import CONFIG, config_value
from tests.helpers.models import save_checkpoint
from tests.helpers.tools import load_tool

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


def deprecated_exporter_warnings(caught) -> list:
    """The warnings of torch's deprecated exporters (the TorchScript-based
    ONNX exporter, torch.jit.trace/script) among ``caught``."""
    return [
        str(w.message) for w in caught
        if issubclass(w.category, (DeprecationWarning, FutureWarning))
        and re.search(r'TorchScript|torch\.jit|dynamo=False', str(w.message))
    ]


needs_torch_export = pytest.mark.skipif(
    not (has_dynamo_onnx_exporter() and has_torch_export()
         and importlib.util.find_spec('onnxscript')),
    reason='needs torch.export-based exporters and onnxscript '
    '(pip install -e ".[tests]")')


@pytest.mark.slow
@needs_torch_export
def test_onnx_and_program_match_pytorch(checkpoint, tmp_path, capsys):
    tool = load_tool('tools/deployment/export_onnx.py')
    onnx_file, pt2_file = str(tmp_path / 'tiny.onnx'), str(tmp_path /
                                                           'tiny.pt2')
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        code = tool.main([
            CONFIG, checkpoint, '--shape', *map(str, SHAPE), '--out',
            onnx_file, '--pt2', pt2_file
        ])
    out = capsys.readouterr().out
    assert code == 0, out
    assert deprecated_exporter_warnings(caught) == []
    assert '(dynamo exporter, opset 18)' in out
    onnx_diff = float(re.search(r'PyTorch max abs diff: (\S+)', out)[1])
    pt2_diff = float(re.search(r'ExportedProgram: .* max abs diff: (\S+)',
                               out)[1])
    assert onnx_diff < 1e-4 and pt2_diff < 1e-4

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
    program = torch.export.load(pt2_file).module()
    with torch.no_grad():
        np.testing.assert_allclose(program(x).numpy(), ref, atol=1e-5)


def test_deprecated_torchscript_exporter_on_request(checkpoint, tmp_path,
                                                    capsys):
    """--exporter torchscript still works (a torch without torch.export
    takes this path); on torch 2.13 it announces its deprecation, which is
    what the test above checks the default path never does."""
    tool = load_tool('tools/deployment/export_onnx.py')
    onnx_file = str(tmp_path / 'legacy.onnx')
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        assert tool.main([
            CONFIG, checkpoint, '--shape', *map(str, SHAPE), '--out',
            onnx_file, '--exporter', 'torchscript', '--static-batch'
        ]) == 0
    out = capsys.readouterr().out
    assert '(torchscript exporter, opset 18)' in out
    assert float(re.search(r'PyTorch max abs diff: (\S+)', out)[1]) < 1e-4
    if has_dynamo_onnx_exporter():
        assert deprecated_exporter_warnings(caught)


@pytest.mark.skipif(not has_torch_export(), reason='torch.export needed')
def test_torchscript_flag_points_at_pt2(checkpoint, tmp_path):
    tool = load_tool('tools/deployment/export_onnx.py')
    with pytest.raises(ValueError, match='--pt2'):
        tool.main([CONFIG, checkpoint, '--torchscript',
                   str(tmp_path / 'x.pt')])


@needs_torch_export
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
    meta = session.get_modelmeta().custom_metadata_map
    assert meta[SOFTMAX_METADATA_KEY] == 'true'  # read by the ONNX demo
    probs = session.run(None, {'inputs': np.zeros(shape, np.float32)})[0]
    assert probs.shape == (4, NUM_CLASSES)
    np.testing.assert_allclose(probs.sum(1), np.ones(4), atol=1e-5)


def test_bad_shape(checkpoint):
    tool = load_tool('tools/deployment/export_onnx.py')
    with pytest.raises(ValueError, match='--shape'):
        tool.main([CONFIG, checkpoint, '--shape', '1', '3', '32'])
