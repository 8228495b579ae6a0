"""What a checkpoint will make torch allocate, found before torch reads it.

Why: ``torch.load`` trusts the sizes a file declares. In the zip format it
inflates a compressed (``ZIP_DEFLATED``) record to the size its header
declares: a 3 MB file of deflated zeros became 3 GiB in memory. In the
legacy (non-zip) format it allocates every storage the pickle names
(``('storage', type, key, location, numel)``) *before* it reads the data,
and a file padded with holes (``truncate -s``) is gigabytes long while it
takes 4 KiB of disk: ``tools/test.py`` read it all.

What: :func:`check_declared_sizes` reads the checkpoint's pickle (the zip's
``data.pkl``, or the main pickle of the legacy format) with an unpickler
whose every global is an inert stand-in and whose ``persistent_load`` only
records the storages (nothing is called, nothing is allocated but the
pickle's own small objects), and refuses, with :class:`DeclaredSizeError`:

* a file with holes (``SEEK_HOLE`` before its end): ``torch.save`` writes
  none;
* a zip record that is compressed (``torch.save`` stores records), lies
  outside the file, or appears twice; a storage whose record is missing or
  of another size than the pickle declares;
* in the legacy format, storages that declare more bytes than the file has
  after the pickle;
* a pickle of more than :data:`MAX_PICKLE_OPCODES` opcodes: each opcode can
  create one Python object (measured: 240 bytes per opcode at worst, for
  empty sets), so the pickle's own objects stay under ~60 MiB; a
  checkpoint saved by ``tools/train.py`` has ~7,600 (a2mm's tiny embedded
  config, 4.3 MB, its ``data.pkl`` with the message hub);
* storages that declare more than ``max_bytes`` in all (the caller's
  budget, e.g. a model's own size with a margin).

So what torch then allocates for storages is at most the bytes that are on
disk. Files that are neither format (a raw pickle, a tar) are left to
torch, which allocates no storage for them under ``weights_only=True``.
"""
import io
import os
import pickle
import pickletools
import warnings
import zipfile
from typing import Any, BinaryIO, Dict, Optional

import torch

__all__ = [
    'MAX_PICKLE_OPCODES', 'MODEL_MARGIN', 'DeclaredSizeError',
    'check_declared_sizes', 'model_budget', 'refuse_holes'
]

#: the most opcodes a checkpoint's pickle may have (see the module doc)
MAX_PICKLE_OPCODES = 250_000
#: bytes a checkpoint may declare beyond four copies of a model's weights
MODEL_MARGIN = 64 << 20


def model_budget(model: torch.nn.Module) -> int:
    """The most a checkpoint of ``model`` may declare: four times the bytes
    of its state dict (the weights, SGD's momentum or Adam's two moments,
    an EMA copy) plus :data:`MODEL_MARGIN`."""
    weights = sum(t.numel() * t.element_size()
                  for t in model.state_dict().values()
                  if isinstance(t, torch.Tensor))
    return 4 * weights + MODEL_MARGIN


class DeclaredSizeError(ValueError):
    """A checkpoint whose declared sizes do not fit the file or the budget
    (the caller adds the file's name)."""


class _Inert:
    """Stands for every global of the pickle: calling, building or filling
    it does nothing."""

    def __new__(cls, *args, **kwargs):
        return object.__new__(cls)

    def __init__(self, *args, **kwargs) -> None:
        pass

    def __call__(self, *args, **kwargs) -> '_Inert':
        return _Inert()

    def __setstate__(self, state: Any) -> None:
        pass

    def __setitem__(self, key: Any, value: Any) -> None:
        pass

    def append(self, value: Any) -> None:
        pass

    def extend(self, values: Any) -> None:
        pass


class _StorageType(_Inert):
    """Stands for ``torch.<Name>Storage``; knows its element size."""

    def __init__(self, element_size: int) -> None:
        self.element_size = element_size


def _storage_type(name: str) -> Optional[_StorageType]:
    """``_StorageType`` of a torch storage class name, None for others."""
    cls = getattr(torch, name, None) if name.endswith('Storage') else None
    if cls is torch.UntypedStorage:
        return _StorageType(1)
    if isinstance(cls, type) and issubclass(cls, torch.storage.TypedStorage):
        with warnings.catch_warnings():  # TypedStorage is deprecated
            warnings.simplefilter('ignore')
            return _StorageType(torch._utils._element_size(cls.dtype))
    return None


class _StorageScanner(pickle.Unpickler):
    """Runs the pickle with inert globals and records each storage it
    names: ``storages[key] = declared bytes``."""

    def __init__(self, file: BinaryIO) -> None:
        super().__init__(file)
        self.storages: Dict[Any, int] = {}

    def find_class(self, module: str, name: str) -> Any:
        if module == 'torch':
            storage_type = _storage_type(name)
            if storage_type is not None:
                return storage_type
        return _Inert

    def persistent_load(self, pid: Any) -> Any:
        # zip: ('storage', type, key, location, numel); legacy: the same
        # plus view_metadata
        if type(pid) is tuple and len(pid) in (5, 6) and pid[0] in (
                'storage', b'storage'):
            storage_type, key, numel = pid[1], pid[2], pid[4]
            if not isinstance(storage_type, _StorageType):
                raise DeclaredSizeError(
                    f'a storage of unknown type {storage_type!r}')
            if type(numel) is not int or numel < 0:
                raise DeclaredSizeError(f'storage {key!r} declares '
                                        f'{numel!r} elements')
            if not isinstance(key, (str, bytes, int)):
                raise DeclaredSizeError(f'a storage key {key!r}')
            self.storages[key] = numel * storage_type.element_size
        return _Inert()


def _count_opcodes(data: BinaryIO) -> None:
    """Refuse a pickle of more than :data:`MAX_PICKLE_OPCODES` opcodes
    (streamed: nothing is kept); ``data`` is left where it was."""
    start = data.tell()
    try:
        for count, _ in enumerate(pickletools.genops(data), 1):
            if count > MAX_PICKLE_OPCODES:
                raise DeclaredSizeError(f'its pickle has more than '
                                        f'{MAX_PICKLE_OPCODES:,} opcodes')
    except (ValueError, EOFError) as error:  # not a pickle: torch says so
        if isinstance(error, DeclaredSizeError):
            raise
        raise _NotScanned from error
    data.seek(start)


def _scan(data: BinaryIO) -> Dict[Any, int]:
    """The storages that one pickle declares (``data`` at its start)."""
    _count_opcodes(data)
    scanner = _StorageScanner(data)
    try:
        scanner.load()
    except DeclaredSizeError:
        raise
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError,
            KeyError, IndexError, AttributeError, RecursionError) as error:
        raise _NotScanned from error
    return scanner.storages


class _NotScanned(Exception):
    """A pickle the scanner cannot follow: torch reads it and says why."""


def refuse_holes(f: BinaryIO) -> int:
    """Refuse a file with holes (``SEEK_HOLE`` before its end): its
    length is not what it holds on disk, and ``torch.save`` (or
    safetensors) writes none. Returns the file's size; ``f`` is left at its
    start."""
    size = os.fstat(f.fileno()).st_size
    try:
        hole = os.lseek(f.fileno(), 0, os.SEEK_HOLE)
    except OSError:
        hole = size  # no SEEK_HOLE here: the file system has no holes
    finally:
        f.seek(0)  # lseek moved the descriptor under the buffered file
    if hole < size:
        raise DeclaredSizeError(
            f'it is a sparse file ({size:,} bytes long, with holes that '
            'take no disk); torch.save writes no holes')
    return size


def _zip_storages(f: BinaryIO, size: int) -> Dict[Any, int]:
    with zipfile.ZipFile(f) as archive:
        infos = archive.infolist()
        names = [info.filename for info in infos]
        if len(set(names)) != len(names):
            raise DeclaredSizeError('a zip record name appears twice')
        for info in infos:
            if info.compress_type != zipfile.ZIP_STORED:
                raise DeclaredSizeError(
                    f'zip record {info.filename!r} is compressed '
                    f'(method {info.compress_type}); torch.save stores '
                    'records, and torch would inflate it to the '
                    f'{info.file_size:,} bytes its header declares')
            if info.file_size != info.compress_size or \
                    info.header_offset + info.compress_size > size:
                raise DeclaredSizeError(
                    f'zip record {info.filename!r} declares '
                    f'{info.file_size:,} bytes, beyond the file')
        pickles = [n for n in names if n.endswith('/data.pkl')
                   or n == 'data.pkl']
        if len(pickles) != 1:
            raise _NotScanned
        prefix = pickles[0][:-len('data.pkl')]
        with archive.open(pickles[0]) as data:
            storages = _scan(io.BytesIO(data.read()))
        records = {info.filename: info.file_size for info in infos}
    for key, nbytes in storages.items():
        name = f'{prefix}data/{key}'
        if records.get(name) != nbytes:
            got = 'missing' if name not in records else \
                f'{records[name]:,} bytes'
            raise DeclaredSizeError(
                f'storage {key!r} declares {nbytes:,} bytes, its record '
                f'{name!r} is {got}')
    return storages


class _HeaderReader(pickle.Unpickler):
    """The plain values before the legacy format's main pickle."""

    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(f'global {module}.{name} in a header')


def _legacy_storages(f: BinaryIO, size: int) -> Dict[Any, int]:
    # magic number, protocol version, system info: torch checks them
    for expected in (torch.serialization.MAGIC_NUMBER, None, None):
        _count_opcodes(f)
        try:
            value = _HeaderReader(f).load()
        except (pickle.UnpicklingError, EOFError, ValueError, TypeError,
                KeyError, IndexError, AttributeError) as error:
            raise _NotScanned from error
        if expected is not None and value != expected:
            raise _NotScanned
    storages = _scan(f)
    left = size - f.tell()
    # after the pickle: the list of storage keys, then per storage its
    # 8-byte element count and its data
    needed = sum(8 + n for n in storages.values())
    if needed > left:
        raise DeclaredSizeError(
            f'its storages declare {needed:,} bytes, the file has {left:,} '
            'after its pickle')
    return storages


def check_declared_sizes(f: BinaryIO,
                         max_bytes: Optional[int] = None) -> int:
    """Check what the checkpoint opened as ``f`` declares (see the module
    docstring); ``f`` is left at its start.

    Args:
        f: the checkpoint, opened for reading, seekable, at offset 0.
        max_bytes: the most its storages may declare in all; None for no
            budget beyond the file's own size.

    Returns:
        int: the bytes its storages declare (0 for a file of neither
        format, left to torch).

    Raises:
        DeclaredSizeError: what is wrong, without the file's name.
    """
    size = refuse_holes(f)
    try:
        is_zip = f.read(4) == b'PK\x03\x04'
        f.seek(0)
        storages = _zip_storages(f, size) if is_zip else \
            _legacy_storages(f, size)
    except _NotScanned:
        storages = {}
    except zipfile.BadZipFile:
        storages = {}  # torch says what is wrong with it
    finally:
        f.seek(0)
    total = sum(storages.values())
    if total > size:
        raise DeclaredSizeError(f'its storages declare {total:,} bytes, the '
                                f'file has {size:,}')
    if max_bytes is not None and total > max_bytes:
        raise DeclaredSizeError(
            f'its storages declare {total:,} bytes, more than the '
            f'{max_bytes:,} allowed for this model (model_budget: four times '
            'its weights and a margin)')
    return total
