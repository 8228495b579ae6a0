"""Read the state dict of a weights file: a PyTorch checkpoint (``.pth``,
``.pt``, ``.bin``, ``.pth.tar``) or a ``.safetensors`` file.

Why: MMEngine's ``CheckpointLoader`` reads only PyTorch checkpoints, while
timm and the Hugging Face hub ship ResNet weights as ``.safetensors``. A
safetensors file is recognised by its content (an 8-byte header length, then
a JSON header), whatever its name, and read with safetensors' own loader
(tensors only, nothing is unpickled). Everything else goes to MMEngine's
``CheckpointLoader`` (``torch.load`` under ``weights_only=True`` with the
allow-list of :mod:`a2mm.utils.checkpoint.loader`), so no file runs code.
"""
import os
import os.path as osp
import struct
from typing import BinaryIO, Dict, Mapping, Optional

import torch
from mmengine.runner.checkpoint import CheckpointLoader

from .declared_sizes import DeclaredSizeError, refuse_holes
from .loader import (CheckpointLoadError, current_model_budget,
                     load_checkpoint_file, open_checkpoint)
from .state_dict_report import (CheckpointMismatchError, compare_state_dicts,
                                refuse_values_not_weights)

__all__ = ['is_safetensors', 'read_state_dict']

#: Containers that training scripts wrap a state dict in: MMEngine and timm
#: (``state_dict``), DeiT-style scripts (``model``).
WRAPPER_KEYS = ('state_dict', 'model')


def _safetensors_head(f: BinaryIO) -> bool:
    """Whether the open file ``f`` starts as a safetensors file does (an
    8-byte header length that fits the file, then ``{``)."""
    head = f.read(9)
    f.seek(0)
    if len(head) < 9:
        return False
    header_len = struct.unpack('<Q', head[:8])[0]
    size = os.fstat(f.fileno()).st_size
    return head[8:9] == b'{' and 0 < header_len <= size - 8


def is_safetensors(path: str) -> bool:
    """Whether ``path`` is a local safetensors file (by content; opened
    once, without blocking: a pipe or a device is not one)."""
    if '://' in path:
        return False
    try:
        with open_checkpoint(path) as f:
            return _safetensors_head(f)
    except (FileNotFoundError, CheckpointLoadError):
        return False


def _read_safetensors(f: BinaryIO, path: str,
                      max_bytes: Optional[int]) -> Dict[str, torch.Tensor]:
    """The tensors of the safetensors file opened as ``f``: read from
    what was opened (``/proc/self/fd``, so a path swapped since cannot be
    read instead), within ``max_bytes``."""
    from safetensors.torch import load, load_file
    try:
        size = refuse_holes(f)
    except DeclaredSizeError as error:
        raise CheckpointLoadError(
            f'refused weights file {path}: {error}') from None
    if max_bytes is not None and size > max_bytes:
        raise CheckpointLoadError(
            f'refused weights file {path}: {size:,} bytes, more than the '
            f'{max_bytes:,} allowed for this model')
    opened = f'/proc/self/fd/{f.fileno()}'
    try:
        if osp.exists(opened):
            return load_file(opened, device='cpu')
        return load(f.read())
    except Exception as error:  # SafetensorError: broken header or data
        raise ValueError(f'{path}: broken safetensors file: '
                         f'{error}') from error


def read_state_dict(
        path: str,
        max_bytes: Optional[int] = None) -> Dict[str, torch.Tensor]:
    """The tensors of a weights file, on the CPU, unwrapped from
    ``{'state_dict': ...}`` or ``{'model': ...}``.

    Args:
        path: a local file, or any URI MMEngine's ``CheckpointLoader``
            reads (PyTorch checkpoints only).
        max_bytes: the most a local file may declare (see
            :func:`~.declared_sizes.model_budget`); None: what it holds.

    Raises:
        FileNotFoundError: a local path that does not exist.
        ValueError: the file is neither a PyTorch checkpoint nor a
            safetensors file, or holds no state dict (names the file).
        CheckpointMismatchError: a value is not a tensor with data (a
            numpy array, a string, a ``meta`` tensor) or a key is not a
            string (names the file, the keys and what they hold).
    """
    local = '://' not in path
    # only a path that names nothing; a directory, a device or a link to one
    # goes on to the safe loader, whose error says what it is
    if local and not osp.lexists(path):
        raise FileNotFoundError(f'weights file not found: {path}')
    if max_bytes is None:
        max_bytes = current_model_budget()
    if local:
        with open_checkpoint(path) as f:
            if _safetensors_head(f):
                return _read_safetensors(f, path, max_bytes)
    try:
        checkpoint = load_checkpoint_file(path, 'cpu', max_bytes) if local \
            else CheckpointLoader.load_checkpoint(path, map_location='cpu')
    except CheckpointMismatchError:
        raise  # the table of keys and what they hold
    except Exception as error:  # UnpicklingError, RuntimeError, EOFError...
        first_line = (str(error).splitlines() or [''])[0][:300]
        raise ValueError(
            f'{path}: neither a PyTorch checkpoint (.pth) nor a safetensors '
            f'file ({type(error).__name__}: {first_line})') from error
    for key in WRAPPER_KEYS:
        if isinstance(checkpoint, Mapping) and isinstance(
                checkpoint.get(key), Mapping):
            checkpoint = checkpoint[key]
            break
    if not isinstance(checkpoint, Mapping):
        raise ValueError(f'{path}: holds a {type(checkpoint).__name__}, not '
                         'a state dict')
    refuse_values_not_weights(compare_state_dicts({}, checkpoint, ()), path)
    state = dict(checkpoint)
    if not state:
        raise ValueError(f'{path}: no tensors in it (keys: '
                         f'{sorted(checkpoint)[:10]})')
    return state
