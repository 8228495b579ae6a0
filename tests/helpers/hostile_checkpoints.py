"""A corpus of hostile and broken checkpoint files, built in a test's
tmp_path (``from tests.helpers.hostile_checkpoints import build_corpus``).

Each kind is what an attacker (or a broken download) would hand a user as
``model.pth``; every payload that would run writes ``marker``, so a test
proves that nothing ran by that file's absence. :data:`KINDS` maps each
kind to the words a2mm's refusal must contain besides the file's path.
"""
import os
import os.path as osp
import pickle
import re
import struct
import subprocess
import zipfile
from typing import Dict, Optional

import numpy as np
import torch
from mmengine.logging import HistoryBuffer

__all__ = [
    'KINDS', 'build_corpus', 'write_crafted_dtype', 'write_deflated_bomb',
    'write_sparse_legacy'
]

#: kind -> a substring of the refusal (after the file's path)
KINDS: Dict[str, str] = {
    'reduce_zip': 'GLOBAL posix.system',
    'reduce_legacy': 'GLOBAL posix.system',
    'reduce_raw_pickle': 'GLOBAL posix.system',
    'swapped_data_pkl': 'GLOBAL posix.system',
    'getattr_escape': 'refuses getattr',
    'eval_global': 'GLOBAL eval was not an allowed global',
    'meta_config_code': "['meta']['config'] is not plain config data",
    'message_hub_cfg_code': "['message_hub']['runtime_info']['cfg'] is not",
    'crafted_dtype': 'numpy data refused',
    'crafted_dtype_state': 'only the plain state numpy writes',
    'lying_storage_size': 'declares 4,294,967,296 bytes, its record',
    'deflated_bomb': 'is compressed (method 8)',
    'sparse_legacy': 'is a sparse file',
    'legacy_beyond_file': 'after its pickle',
    'pickle_opcodes': 'opcodes',
    'cfg_dotted_type': "type='subprocess.run' is not a registered name",
    'cfg_custom_imports': "custom_imports names ['antigravity']",
    'cfg_deep_nesting': 'nested too deeply',
    'numpy_weights': 'holds values that are not weights',
    'meta_tensor_weight': 'a tensor on the meta device',
    'string_weight': 'holds values that are not weights',
    'integer_key': 'a key of type int, not a string',
    'truncated_zip': 'failed finding central directory',
    'truncated_legacy': 'a truncated or corrupt file',
    'not_a_dict': 'holds a list, not a checkpoint',
    'dev_zero_link': 'is not a regular file',
    'dev_urandom_link': 'is not a regular file',
    'directory': 'is a directory',
    'sparse_64g': 'is a sparse file',
    'empty': 'is empty (0 bytes)',
}


class _Call:
    """Pickles as ``func(*args)``: what a ``__reduce__`` payload is."""

    def __init__(self, func, *args):
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


class _Rebuild:
    """Pickles as ``func(*args)`` followed by BUILD with ``state``."""

    def __init__(self, func, args, state):
        self.func, self.args, self.state = func, args, state

    def __reduce__(self):
        return self.func, self.args, self.state


def _touch(marker: str) -> str:
    return f'touch {marker}'


def _np_multiarray():
    return np._core.multiarray if hasattr(np, '_core') else np.core.multiarray


def write_crafted_dtype(path: str, flags_only: bool = False) -> str:
    """A checkpoint whose numpy array has a ``float64`` dtype with crafted
    state: an ``object`` field at offset 0 over 8 bytes of ``A`` (reading
    it dereferences 0x4141414141414141), or with ``flags_only`` only the
    dtype flags changed (``NPY_ITEM_REFCOUNT``)."""
    if flags_only:
        state = (3, '<', None, None, None, -1, -1, 1)
    else:
        obj = _Call(np.dtype, 'O', False, True)
        state = (3, '|', None, ('a', ), {'a': (obj, 0)}, 8, 8, 0)
    dtype = _Rebuild(np.dtype, ('f8', False, True), state)
    array = _Rebuild(_np_multiarray()._reconstruct, (np.ndarray, (0, ), b'b'),
                     (1, (1, ), dtype, False, b'A' * 8))
    torch.save({'state_dict': {'w': torch.zeros(1)}, 'x': array}, path)
    return path


def _swap_data_pkl(src: str, dst: str, data_pkl: bytes) -> None:
    """Copy the zip checkpoint ``src`` to ``dst`` with its ``data.pkl``
    record replaced (the other records, e.g. the tensors, kept)."""
    with zipfile.ZipFile(src) as zin, \
            zipfile.ZipFile(dst, 'w', zipfile.ZIP_STORED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename.endswith('/data.pkl'):
                data = data_pkl
            zout.writestr(info, data)


def _declare_numel(pkl: bytes, numel: int) -> bytes:
    """``pkl`` (the pickle of one one-element float storage) with the
    storage's element count replaced by ``numel``."""
    declared = b'J' + struct.pack('<i', numel)  # BININT
    out, count = re.subn(rb'(cpuq.)K\x01', lambda m: m.group(1) + declared,
                         pkl)
    assert count == 1, 'torch changed its pickle layout'
    return out


def write_deflated_bomb(path: str, nbytes: int) -> str:
    """A zip checkpoint whose one storage declares ``nbytes`` bytes and
    whose record holds them as deflated zeros (about ``nbytes / 1000`` on
    disk): torch inflates it all."""
    one = path + '.one'
    torch.save({'state_dict': {'w': torch.zeros(1)}}, one)
    with zipfile.ZipFile(one) as zin, \
            zipfile.ZipFile(path, 'w', zipfile.ZIP_STORED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename.endswith('/data.pkl'):
                zout.writestr(info, _declare_numel(data, nbytes // 4))
            elif info.filename.endswith('/data/0'):
                info.compress_type = zipfile.ZIP_DEFLATED
                zeros = bytes(1 << 20)
                with zout.open(info, 'w', force_zip64=True) as record:
                    for _ in range(nbytes >> 20):
                        record.write(zeros)
            else:
                zout.writestr(info, data)
    os.remove(one)
    return path


def write_sparse_legacy(path: str, nbytes: int) -> str:
    """A legacy-format checkpoint whose one storage declares ``nbytes``
    bytes, padded with holes to the length that needs: a few KiB on disk.
    """
    torch.save({'state_dict': {'w': torch.zeros(1)}}, path,
               _use_new_zipfile_serialization=False)
    with open(path, 'rb') as f:
        data = f.read()
    # the file ends with the storage: its 8-byte element count, 4 bytes
    head = _declare_numel(data[:-12], nbytes // 4)
    with open(path, 'wb') as f:
        f.write(head + struct.pack('<q', nbytes // 4))
        f.truncate(len(head) + 8 + nbytes)
    return path


def build_corpus(root: str,
                 marker: str,
                 state_dict: Optional[dict] = None) -> Dict[str, str]:
    """Write one file (or link, or folder) per kind of :data:`KINDS` under
    ``root``.

    Args:
        root: an existing folder (a test's tmp_path).
        marker: the file every code payload would create.
        state_dict: real weights to wrap the payloads around (a model's
            ``state_dict()``), so that a file is refused for its payload,
            not for its weights. Default: one tensor.

    Returns:
        dict: kind -> path.
    """
    state_dict = state_dict if state_dict is not None else \
        {'w': torch.zeros(1)}
    paths = {kind: osp.join(root, f'{kind}.pth') for kind in KINDS}
    system = _Call(os.system, _touch(marker))
    full = {'state_dict': state_dict, 'meta': {'epoch': 1, 'iter': 1}}

    torch.save(dict(full, meta=system), paths['reduce_zip'])
    torch.save(dict(full, meta=system), paths['reduce_legacy'],
               _use_new_zipfile_serialization=False)
    with open(paths['reduce_raw_pickle'], 'wb') as f:
        pickle.dump({'state_dict': system}, f, protocol=2)

    good = osp.join(root, 'good.pth')
    torch.save(full, good)
    _swap_data_pkl(good, paths['swapped_data_pkl'],
                   pickle.dumps({'state_dict': system}, protocol=2))

    # getattr is allowed only for HistoryBuffer's statistics methods: try
    # to reach a function's globals (and from there, builtins) through it
    method = _Call(getattr, HistoryBuffer, 'min')
    torch.save(dict(full, meta=_Call(getattr, method, '__globals__')),
               paths['getattr_escape'])
    torch.save(
        dict(full, meta=_Call(eval, f"__import__('os').system("
                              f"{_touch(marker)!r})")), paths['eval_global'])

    code = f"_ = __import__('os').system({_touch(marker)!r})\n"
    resumable = dict(full, message_hub={'log_scalars': {}, 'runtime_info':
                                        {}, 'resumed_keys': {}})
    torch.save(dict(resumable, meta={'epoch': 1, 'iter': 1, 'config': code}),
               paths['meta_config_code'])
    torch.save(dict(resumable, message_hub={'runtime_info': {'cfg': code}}),
               paths['message_hub_cfg_code'])

    write_crafted_dtype(paths['crafted_dtype'])
    write_crafted_dtype(paths['crafted_dtype_state'], flags_only=True)

    # a storage that claims 2**30 elements over a record of 4 bytes
    one = osp.join(root, 'one.pth')
    torch.save({'state_dict': {'w': torch.zeros(1)}}, one)
    with zipfile.ZipFile(one) as z:
        pkl = next(z.read(n) for n in z.namelist() if n.endswith('data.pkl'))
    _swap_data_pkl(one, paths['lying_storage_size'],
                   _declare_numel(pkl, 1 << 30))

    with open(good, 'rb') as f:
        data = f.read()
    with open(paths['truncated_zip'], 'wb') as f:
        f.write(data[:len(data) // 2])
    legacy = osp.join(root, 'legacy.pth')
    torch.save(full, legacy, _use_new_zipfile_serialization=False)
    with open(legacy, 'rb') as f:
        data = f.read()
    with open(paths['truncated_legacy'], 'wb') as f:
        f.write(data[:len(data) - 16])

    write_deflated_bomb(paths['deflated_bomb'], 256 << 20)
    write_sparse_legacy(paths['sparse_legacy'], 256 << 20)
    write_sparse_legacy(paths['legacy_beyond_file'], 256 << 20)
    with open(paths['legacy_beyond_file'], 'r+b') as f:  # no holes: cut
        f.truncate(4096)
    _swap_data_pkl(good, paths['pickle_opcodes'],
                   b'(' + b'N' * 250_000 + b'l.')

    # stored config text that MMAction2's inferencer would build or import
    runs = (f"model = dict(type='subprocess.run', args={_touch(marker)!r}, "
            'shell=True)\n')
    torch.save(dict(full, message_hub={'runtime_info': {'cfg': runs}}),
               paths['cfg_dotted_type'])
    torch.save(dict(full, meta={'epoch': 1, 'iter': 1, 'cfg':
                                "custom_imports = dict(imports=["
                                "'antigravity'])\n"}),
               paths['cfg_custom_imports'])
    torch.save(dict(full, meta={'cfg': 'x = ' + '-' * 200_000 + '1\n'}),
               paths['cfg_deep_nesting'])

    # values that PyTorch skips with a warning: the model stays random
    weights = full['state_dict']
    first = next(iter(weights))
    torch.save(dict(full, state_dict={k: v.numpy() for k, v in
                                      weights.items()}),
               paths['numpy_weights'])
    torch.save(dict(full, state_dict=dict(
        weights, **{first: weights[first].to('meta')})),
               paths['meta_tensor_weight'])
    torch.save(dict(full, state_dict=dict(weights, **{first: 'weights'})),
               paths['string_weight'])
    torch.save(dict(full, state_dict={**weights, 7: torch.zeros(1)}),
               paths['integer_key'])

    torch.save([torch.zeros(1)], paths['not_a_dict'])
    os.symlink('/dev/zero', paths['dev_zero_link'])
    os.symlink('/dev/urandom', paths['dev_urandom_link'])
    os.mkdir(paths['directory'])
    # 64 GiB of holes: takes no disk, and must not be read into memory
    subprocess.run(['truncate', '-s', '64G', paths['sparse_64g']],
                   check=True)
    open(paths['empty'], 'wb').close()
    return paths
