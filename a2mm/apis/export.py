"""Export a recognizer to ONNX or TorchScript and check the copy against
PyTorch.

The exported graph is the recognizer's ``mode='tensor'`` path up to the
head (:class:`ScoresWrapper`): it takes the *preprocessed* batch (after the
model's ``data_preprocessor``: normalised float, ``(B, V, C, T, H, W)`` for
3D recognizers, ``(B, S, C, H, W)`` for 2D ones) and returns the head's
class scores for every view, ``(B*V, num_classes)``. Reading the video,
normalising and averaging the views stay outside, as in MMAction2's own
``export_onnx_*`` tools.

ONNX uses PyTorch's TorchScript-based exporter (``dynamo=False``): the
newer ``torch.export`` exporter needs the ``onnxscript`` package, which the
pinned stack does not install.
"""
import warnings
from typing import Sequence, Tuple

import numpy as np
import torch
import torch.nn as nn

__all__ = [
    'ScoresWrapper', 'export_onnx', 'onnx_max_abs_diff', 'trace_torchscript',
    'torchscript_max_abs_diff'
]


class ScoresWrapper(nn.Module):
    """A recognizer as a plain ``Tensor -> Tensor`` module for export.

    Args:
        recognizer: an MMAction2 recognizer (``Recognizer3D``,
            ``Recognizer2D``, ...) in eval mode.
        softmax: apply a softmax over the classes to the scores. Default:
            False (the head's raw scores).

    Input ``(B, V, C, T, H, W)`` (3D) or ``(B, S, C, H, W)`` (2D), output
    ``(B*V, num_classes)`` (2D heads already merge the ``S`` segments:
    ``(B, num_classes)``).
    """

    def __init__(self, recognizer: nn.Module, softmax: bool = False) -> None:
        super().__init__()
        self.recognizer = recognizer
        self.softmax = softmax

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        scores = self.recognizer(inputs, mode='tensor', stage='head')
        if isinstance(scores, (tuple, list)):
            scores = scores[0]
        return scores.softmax(dim=-1) if self.softmax else scores


def export_onnx(model: nn.Module,
                example: torch.Tensor,
                path: str,
                opset_version: int = 17,
                dynamic_batch: bool = True) -> None:
    """Write ``model(example)`` as an ONNX graph with input ``'inputs'``
    and output ``'scores'``; with ``dynamic_batch`` the first axis of both
    may vary."""
    model.eval()
    dynamic_axes = {
        'inputs': {
            0: 'batch'
        },
        'scores': {
            0: 'batch'
        }
    } if dynamic_batch else None
    with torch.no_grad(), warnings.catch_warnings():
        # The TorchScript-based exporter announces its own deprecation.
        warnings.simplefilter('ignore', DeprecationWarning)
        torch.onnx.export(
            model, (example, ),
            path,
            input_names=['inputs'],
            output_names=['scores'],
            opset_version=opset_version,
            dynamic_axes=dynamic_axes,
            dynamo=False)


def onnx_max_abs_diff(
        model: nn.Module, path: str,
        inputs: Sequence[torch.Tensor]) -> Tuple[float, np.ndarray]:
    """Run the ONNX file at ``path`` with onnxruntime (CPU) on each input and
    compare with ``model``. Returns the largest absolute difference over all
    inputs and the onnxruntime output of the last one."""
    import onnxruntime as ort

    session = ort.InferenceSession(path, providers=['CPUExecutionProvider'])
    worst = 0.0
    ort_out = np.empty(0)
    for x in inputs:
        with torch.no_grad():
            ref = model(x).float().numpy()
        ort_out = session.run(['scores'], {'inputs': x.numpy()})[0]
        if ort_out.shape != ref.shape:
            raise RuntimeError(f'ONNX output shape {ort_out.shape} differs '
                               f'from PyTorch {ref.shape}')
        worst = max(worst, float(np.abs(ort_out - ref).max()))
    return worst, ort_out


def trace_torchscript(model: nn.Module, example: torch.Tensor,
                      path: str) -> torch.jit.ScriptModule:
    """``torch.jit.trace`` ``model`` on ``example`` and save it to ``path``.

    Tracing records one path through Python control flow; A2Block's
    branches depend only on dtypes and whether it has a norm, which are
    fixed for a given model, so the trace is valid for any input shape.

    ``torch.jit.script`` does not work (torch 2.13): MMAction2 recognizers'
    ``forward`` takes ``data_samples`` and keyword defaults, and A2Block's
    ``norm`` property is annotated ``Optional[nn.Module]``, which the
    scripting compiler cannot resolve."""
    model.eval()
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter('ignore', DeprecationWarning)
        traced = torch.jit.trace(model, (example, ), check_trace=False)
    traced.save(path)
    return traced


def torchscript_max_abs_diff(model: nn.Module, path: str,
                             inputs: Sequence[torch.Tensor]) -> float:
    """Load the TorchScript file at ``path`` and return its largest absolute
    difference from ``model`` over ``inputs``."""
    loaded = torch.jit.load(path, map_location='cpu')
    worst = 0.0
    with torch.no_grad():
        for x in inputs:
            worst = max(worst, float((loaded(x) - model(x)).abs().max()))
    return worst
