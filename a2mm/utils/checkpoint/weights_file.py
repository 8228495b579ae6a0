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
import os.path as osp
import struct
from typing import Dict, Mapping

import torch
from mmengine.runner.checkpoint import CheckpointLoader

from .loader import CheckpointLoadError
from .state_dict_report import CheckpointMismatchError, compare_state_dicts

__all__ = ['is_safetensors', 'read_state_dict']

#: Containers that training scripts wrap a state dict in: MMEngine and timm
#: (``state_dict``), DeiT-style scripts (``model``).
WRAPPER_KEYS = ('state_dict', 'model')


def is_safetensors(path: str) -> bool:
    """Whether ``path`` is a local safetensors file (by content)."""
    if not osp.isfile(path):
        return False
    with open(path, 'rb') as f:
        head = f.read(9)
    if len(head) < 9:
        return False
    header_len = struct.unpack('<Q', head[:8])[0]
    return head[8:9] == b'{' and 0 < header_len <= osp.getsize(path) - 8


def read_state_dict(path: str) -> Dict[str, torch.Tensor]:
    """The tensors of a weights file, on the CPU, unwrapped from
    ``{'state_dict': ...}`` or ``{'model': ...}``.

    Args:
        path: a local file, or any URI MMEngine's ``CheckpointLoader``
            reads (PyTorch checkpoints only).

    Raises:
        FileNotFoundError: a local path that does not exist.
        ValueError: the file is neither a PyTorch checkpoint nor a
            safetensors file, or holds no state dict (names the file).
        CheckpointMismatchError: a value is not a tensor with data (a
            numpy array, a string, a ``meta`` tensor) or a key is not a
            string (names the file, the keys and what they hold).
    """
    # only a path that names nothing; a directory, a device or a link to one
    # goes on to the safe loader, whose error says what it is
    if '://' not in path and not osp.lexists(path):
        raise FileNotFoundError(f'weights file not found: {path}')
    if is_safetensors(path):
        from safetensors.torch import load_file
        try:
            return load_file(path, device='cpu')
        except Exception as error:  # SafetensorError: broken header or data
            raise ValueError(f'{path}: broken safetensors file: '
                             f'{error}') from error
    try:
        checkpoint = CheckpointLoader.load_checkpoint(path,
                                                      map_location='cpu')
    except (CheckpointLoadError, CheckpointMismatchError):
        raise  # a2mm's loader: the message names the file and why
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
    not_weights = compare_state_dicts({}, checkpoint, ()).not_weights
    if not_weights:
        raise CheckpointMismatchError(
            f'{path}: holds values that are not weights; PyTorch would skip '
            'them:\n' + '\n'.join(f'  {key}: {what}'
                                   for key, what in not_weights[:20]))
    state = dict(checkpoint)
    if not state:
        raise ValueError(f'{path}: no tensors in it (keys: '
                         f'{sorted(checkpoint)[:10]})')
    return state
