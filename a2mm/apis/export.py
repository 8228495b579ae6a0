"""Export a recognizer to ONNX or to a PyTorch program and check the copy
against PyTorch.

The exported graph is the recognizer's ``mode='tensor'`` path up to the
head (:class:`ScoresWrapper`): it takes the *preprocessed* batch (after the
model's ``data_preprocessor``: normalised float, ``(B, V, C, T, H, W)`` for
3D recognizers, ``(B, S, C, H, W)`` for 2D ones) and returns the head's
class scores for every view, ``(B*V, num_classes)``. Reading the video,
normalising and averaging the views stay outside, as in MMAction2's own
``export_onnx_*`` tools (:mod:`a2mm.apis.onnx_inference` runs them around
an ONNX file).

Exporters, chosen by what the installed torch has (not by its version):

* ONNX: the ``torch.export``-based exporter
  (``torch.onnx.export(..., dynamo=True)``, which needs the ``onnxscript``
  package) where torch has it; otherwise the TorchScript-based exporter
  (``dynamo=False``), which torch 2.9+ deprecates.
* A PyTorch program: a ``torch.export`` ``ExportedProgram`` saved as
  ``.pt2`` where torch has ``torch.export``; otherwise a ``torch.jit.trace``
  TorchScript file (torch 2.13 deprecates ``torch.jit``).
"""
import importlib.util
import inspect
from typing import Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn as nn

__all__ = [
    'ONNX_EXPORTERS', 'SOFTMAX_METADATA_KEY', 'ScoresWrapper',
    'has_torch_export', 'has_dynamo_onnx_exporter', 'resolve_onnx_exporter',
    'export_onnx', 'onnx_max_abs_diff', 'export_program',
    'program_max_abs_diff', 'trace_torchscript', 'torchscript_max_abs_diff'
]

#: ``exporter=`` values of :func:`export_onnx`.
ONNX_EXPORTERS = ('auto', 'dynamo', 'torchscript')

#: ONNX metadata key: ``'true'`` when the graph's scores are softmaxed
#: (``ScoresWrapper(softmax=True)``), read by the ONNX demo.
SOFTMAX_METADATA_KEY = 'a2mm.softmax'

# ONNX protobuf files are limited to 2 GB; bigger weights go to a side file.
_PROTOBUF_LIMIT = 2**31 - 2**24


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


def has_torch_export() -> bool:
    """Whether the installed torch has ``torch.export.export`` (torch>=2.1)
    and ``torch.export.save``."""
    export = getattr(torch, 'export', None)
    return callable(getattr(export, 'export', None)) and callable(
        getattr(export, 'save', None))


def has_dynamo_onnx_exporter() -> bool:
    """Whether ``torch.onnx.export`` takes ``dynamo=`` (the
    ``torch.export``-based exporter) and ``dynamic_shapes=``."""
    params = inspect.signature(torch.onnx.export).parameters
    return (has_torch_export() and 'dynamo' in params
            and 'dynamic_shapes' in params)


def resolve_onnx_exporter(exporter: str = 'auto') -> str:
    """``'dynamo'`` or ``'torchscript'``: the ONNX exporter to use.

    ``'auto'`` picks the ``torch.export``-based one where torch has it.

    Raises:
        ValueError: an unknown name.
        RuntimeError: ``'dynamo'`` on a torch without it.
        ImportError: the ``torch.export``-based exporter without
            ``onnxscript`` installed.
    """
    if exporter not in ONNX_EXPORTERS:
        raise ValueError(f'exporter must be one of {ONNX_EXPORTERS}, '
                         f'got {exporter!r}')
    if exporter == 'auto':
        exporter = 'dynamo' if has_dynamo_onnx_exporter() else 'torchscript'
    if exporter == 'dynamo':
        if not has_dynamo_onnx_exporter():
            raise RuntimeError(
                f'torch {torch.__version__} has no torch.export-based ONNX '
                "exporter; use exporter 'torchscript'")
        if importlib.util.find_spec('onnxscript') is None:
            raise ImportError(
                'the torch.export-based ONNX exporter needs the onnxscript '
                "package: pip install onnxscript (or exporter 'torchscript', "
                'which torch deprecates since 2.9)')
    return exporter


def _trace_input(example: torch.Tensor, dynamic_batch: bool) -> torch.Tensor:
    """The input to trace on: ``torch.export`` specialises a dimension of
    size 1 to a constant, so a dynamic batch is traced at batch 2 (the
    example repeated)."""
    if dynamic_batch and example.shape[0] == 1:
        return torch.cat([example, example])
    return example


def _dynamic_shapes(dynamic_batch: bool) -> Optional[tuple]:
    return ({0: torch.export.Dim('batch')}, ) if dynamic_batch else None


def export_onnx(model: nn.Module,
                example: torch.Tensor,
                path: str,
                opset_version: int = 18,
                *,
                dynamic_batch: bool = True,
                exporter: str = 'auto') -> str:
    """Write ``model(example)`` as an ONNX graph with input ``'inputs'``
    and output ``'scores'``; with ``dynamic_batch`` the first axis of both
    may vary.

    Weights are stored inside the ``.onnx`` file (below protobuf's 2 GB
    limit; above it next to it, as ``<path>.data``). A
    :class:`ScoresWrapper`'s ``softmax`` is recorded in the file's metadata
    (:data:`SOFTMAX_METADATA_KEY`).

    Returns:
        str: the exporter used, ``'dynamo'`` or ``'torchscript'``.
    """
    exporter = resolve_onnx_exporter(exporter)
    model.eval()
    if exporter == 'dynamo':
        num_bytes = sum(p.numel() * p.element_size()
                        for p in model.parameters())
        with torch.no_grad():
            torch.onnx.export(
                model, (_trace_input(example, dynamic_batch), ),
                path,
                input_names=['inputs'],
                output_names=['scores'],
                opset_version=opset_version,
                dynamic_shapes=_dynamic_shapes(dynamic_batch),
                external_data=num_bytes > _PROTOBUF_LIMIT,
                dynamo=True,
                verbose=False)
    else:
        dynamic_axes = {
            'inputs': {0: 'batch'},
            'scores': {0: 'batch'}
        } if dynamic_batch else None
        with torch.no_grad():
            torch.onnx.export(
                model, (example, ),
                path,
                input_names=['inputs'],
                output_names=['scores'],
                opset_version=opset_version,
                dynamic_axes=dynamic_axes,
                dynamo=False)
    _write_metadata(
        path, {SOFTMAX_METADATA_KEY: str(getattr(model, 'softmax',
                                                 False)).lower()})
    return exporter


def _write_metadata(path: str, entries: dict) -> None:
    """Add ``entries`` to the ONNX file's ``metadata_props`` (the weights
    in a side file, if any, stay where they are)."""
    import onnx

    proto = onnx.load(path, load_external_data=False)
    for key, value in entries.items():
        prop = proto.metadata_props.add()
        prop.key, prop.value = key, value
    onnx.save(proto, path)


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


def export_program(model: nn.Module,
                   example: torch.Tensor,
                   path: str,
                   *,
                   dynamic_batch: bool = True
                   ) -> 'torch.export.ExportedProgram':
    """``torch.export`` ``model`` on ``example`` and save the
    ``ExportedProgram`` to ``path`` (``.pt2``; load it with
    ``torch.export.load(path).module()``). With ``dynamic_batch`` the
    batch axis may vary.

    Raises:
        RuntimeError: the installed torch has no ``torch.export``
            (use :func:`trace_torchscript`).
    """
    if not has_torch_export():
        raise RuntimeError(f'torch {torch.__version__} has no torch.export; '
                           'use trace_torchscript')
    model.eval()
    program = torch.export.export(
        model, (_trace_input(example, dynamic_batch), ),
        dynamic_shapes=_dynamic_shapes(dynamic_batch))
    torch.export.save(program, path)
    return program


def program_max_abs_diff(model: nn.Module, path: str,
                         inputs: Sequence[torch.Tensor]) -> float:
    """Load the ``ExportedProgram`` at ``path`` and return its largest
    absolute difference from ``model`` over ``inputs``."""
    loaded = torch.export.load(path).module()
    worst = 0.0
    with torch.no_grad():
        for x in inputs:
            worst = max(worst, float((loaded(x) - model(x)).abs().max()))
    return worst


def trace_torchscript(model: nn.Module, example: torch.Tensor,
                      path: str) -> torch.jit.ScriptModule:
    """``torch.jit.trace`` ``model`` on ``example`` and save it to ``path``:
    the PyTorch program for a torch without ``torch.export``.

    Tracing records one path through Python control flow; A2Block's
    branches depend only on dtypes and whether it has a norm, which are
    fixed for a given model, so the trace is valid for any input shape.

    ``torch.jit.script`` does not work (torch 2.13): MMAction2 recognizers'
    ``forward`` takes ``data_samples`` and keyword defaults, and A2Block's
    ``norm`` property is annotated ``Optional[nn.Module]``, which the
    scripting compiler cannot resolve."""
    model.eval()
    with torch.no_grad():
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
