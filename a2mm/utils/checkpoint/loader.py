"""Load checkpoints without running anything from them.

Why: MMEngine 0.10.7 loads a local checkpoint with
``torch.load(filename, map_location=...)`` (``mmengine/runner/
checkpoint.py``, ``load_from_local``): no ``weights_only``, so the default
of the installed torch decides (and ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1``
turns it off); its runner's checkpoints hold a few non-tensor objects that
plain ``weights_only=True`` refuses; ``Runner.resume`` executes the config
text stored in the checkpoint (see
:mod:`a2mm.utils.checkpoint.config_text`); and a path that is a directory,
a device or a pipe gets "can not be found", or is read for ever.

What: :func:`a2mm.compat.apply` (``import a2mm`` calls it;
:mod:`a2mm.compat.checkpoint_loader`)

* registers :func:`load_from_safe_local` as MMEngine's loader for local
  paths (``CheckpointLoader.register_scheme(prefixes='', force=True)``,
  MMEngine's own extension point), so the runner (``load_from``,
  ``--resume``, ``tools/test.py``), ``mmengine.runner.load_checkpoint``,
  MMAction2's ``init_recognizer`` and the backbones' ``pretrained`` /
  ``pretrained2d`` all load through :func:`load_checkpoint_file`;
* adds :data:`SAFE_GLOBALS` to PyTorch's ``weights_only`` allow-list
  (``torch.serialization.add_safe_globals``). These are exactly what a
  checkpoint of ``tools/train.py`` holds (found with
  ``torch.serialization.get_unsafe_globals_in_checkpoint``), each a
  stand-in that checks its arguments:

  * ``mmengine.logging.history_buffer.HistoryBuffer``: the logged scalars
    of ``message_hub``;
  * ``builtins.getattr``, mapped to :func:`_statistics_getattr`, which
    returns only the ``HistoryBuffer.min/max/mean/current`` methods that
    each buffer keeps and refuses everything else;
  * ``builtins.bytes``, mapped to :func:`_empty_bytes` (``bytes()`` only:
    protocol 2 writes an empty array's data so);
  * numpy arrays, dtypes and scalars, rebuilt by
    :mod:`a2mm.utils.checkpoint.safe_numpy` from a dtype *name*: a pickle
    cannot set a dtype's internal state (fields, flags), which would turn
    file bytes into object pointers (SIGSEGV).

:func:`load_checkpoint_file` opens the file once, without blocking
(:func:`open_checkpoint`), and reads only from what it opened. It refuses,
with :class:`CheckpointLoadError` naming the file and why: anything but a
non-empty regular file (judged by ``fstat`` of the open file, so
``/dev/zero``, a pipe, or a link flipped to a pipe after any check, is
never read), files that declare more than they hold or than the model's
budget (:mod:`.declared_sizes`), every pickle global outside torch's and
this allow-list (a ``__reduce__`` payload, ``eval``), files torch cannot
parse (truncated, not a checkpoint), a top-level object that is not a
dict, and config text in ``meta`` / ``message_hub`` that is not plain data
or names what MMEngine would import (:mod:`.config_text`,
:mod:`.config_types`). ``meta['config']`` is then reduced to its
``gpu_ids`` line, the only part ``Runner.resume`` reads, so MMEngine never
executes the stored text. A ``state_dict`` holding values that cannot be
weights is a :class:`~.state_dict_report.CheckpointMismatchError`. Only
these errors are turned into refusals: a caller's own exception (a
timeout, ``KeyboardInterrupt``) raised during the load goes up unchanged.

Requires torch >= 2.6 (``(object, name)`` entries of the allow-list).
Remove this module once MMEngine loads with ``weights_only=True`` itself and
stops executing ``meta['config']``.
"""
import os
import os.path as osp
import pickle
import stat
import weakref
from contextvars import ContextVar, Token
from typing import Any, BinaryIO, Callable, Optional, Tuple, Union

import torch
from mmengine.logging import HistoryBuffer

from .config_text import ConfigTextError, check_config_text, gpu_ids_line
from .config_types import ConfigTypeError, check_config_types
from .declared_sizes import (DeclaredSizeError, check_declared_sizes,
                             model_budget)
from .safe_numpy import NUMPY_SAFE_GLOBALS, to_plain_numpy
from .state_dict_report import compare_state_dicts, refuse_values_not_weights

__all__ = [
    'SAFE_GLOBALS', 'CheckpointLoadError', 'open_checkpoint',
    'load_checkpoint_file', 'load_from_safe_local', 'set_model_budget',
    'reset_model_budget', 'current_model_budget'
]

# Methods that HistoryBuffer keeps in ``_statistics_methods`` by default.
_STATISTICS = ('min', 'max', 'current', 'mean')


class CheckpointLoadError(RuntimeError):
    """A checkpoint file that a2mm refuses to load; the message names the
    file and why."""


def _statistics_getattr(obj: object, name: str) -> Callable:
    """Stand-in for ``builtins.getattr`` during unpickling: only
    ``HistoryBuffer.<min|max|current|mean>``.

    Raises:
        pickle.UnpicklingError: any other object or attribute.
    """
    if obj is HistoryBuffer and name in _STATISTICS:
        return getattr(HistoryBuffer, name)
    raise pickle.UnpicklingError(
        f'a2mm checkpoint loading refuses getattr({obj!r}, {name!r}): only '
        f'HistoryBuffer.{{{",".join(_STATISTICS)}}} are allowed')


def _empty_bytes(*args) -> bytes:
    """Stand-in for ``builtins.bytes`` during unpickling: protocol 2 writes
    ``b''`` (an empty numpy array's data) as ``bytes()``. Any argument is
    refused (``bytes(10**12)`` would allocate a terabyte)."""
    if args:
        raise pickle.UnpicklingError(
            'a2mm checkpoint loading refuses bytes() with arguments')
    return b''


SAFE_GLOBALS = [
    HistoryBuffer,
    (_statistics_getattr, 'builtins.getattr'),
    (_statistics_getattr, '__builtin__.getattr'),
    (_empty_bytes, 'builtins.bytes'),
    (_empty_bytes, '__builtin__.bytes'),
] + NUMPY_SAFE_GLOBALS

#: Where MMEngine keeps config text in a checkpoint.
_CONFIG_TEXT_KEYS = (('meta', 'config'), ('meta', 'cfg'),
                     ('message_hub', 'runtime_info', 'cfg'))


def open_checkpoint(filename: str) -> BinaryIO:
    """Open ``filename`` once and refuse anything but a non-empty regular
    file, judged by what was opened (``fstat``), so that a path swapped
    between a check and the open (a link flipped to a FIFO) cannot make the
    load block: ``O_NONBLOCK`` opens a FIFO without waiting for a writer,
    and its ``fstat`` says what it is. Links are followed (``latest.pth``
    -> ``epoch_12.pth`` is common); their target is what counts."""
    try:
        fd = os.open(filename, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise FileNotFoundError(
            f'checkpoint file not found: {filename}') from None
    except IsADirectoryError:
        raise CheckpointLoadError(
            f'{filename} is a directory, not a checkpoint file') from None
    except OSError as e:
        raise CheckpointLoadError(
            f'cannot open checkpoint {filename}: {e.strerror}') from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise CheckpointLoadError(
                f'{filename} is a directory, not a checkpoint file')
        if not stat.S_ISREG(info.st_mode):
            target = osp.realpath(filename)
            shown = filename if target == filename else \
                f'{filename} (-> {target})'
            raise CheckpointLoadError(
                f'{shown} is not a regular file (a device, pipe or socket): '
                'a checkpoint is only read from a regular file')
        if info.st_size == 0:
            raise CheckpointLoadError(f'{filename} is empty (0 bytes)')
        # a regular file: reads do not block, O_NONBLOCK can stay
        return os.fdopen(fd, 'rb')
    except BaseException:
        os.close(fd)
        raise


def _torch_reason(error: Exception) -> str:
    """The first sentence of what torch found, without its advice to load
    with ``weights_only=False``."""
    text = str(error)
    if text.startswith('Weights only load failed'):
        text = text.split('WeightsUnpickler error:', 1)[1] \
            if 'WeightsUnpickler error:' in text else text.split('\n', 1)[-1]
        text = text.split('Check the documentation of torch.load')[0]
    text = ' '.join(text.split())
    if '. ' in text:
        text = text[:text.index('. ') + 1]
    if not text and isinstance(error, EOFError):
        text = 'the file ends early (EOFError)'
    return text or type(error).__name__


def _disarm_config_text(checkpoint: dict, filename: str) -> None:
    """Check every config text (refuse code) and keep of ``meta['config']``
    only the line ``Runner.resume`` reads."""
    for path in _CONFIG_TEXT_KEYS:
        parent, value = None, checkpoint
        for key in path:
            parent = value
            value = value.get(key) if isinstance(value, dict) else None
        if value is None:
            continue
        where = "']['".join(path)
        try:
            module = check_config_text(value)
            check_config_types(module)
        except ConfigTypeError as e:
            raise CheckpointLoadError(
                f"refused checkpoint {filename}: its ['{where}'] names what "
                f'MMEngine would import ({e})') from None
        except ConfigTextError as e:
            raise CheckpointLoadError(
                f"refused checkpoint {filename}: its ['{where}'] is not "
                f'plain config data ({e}); MMEngine would execute it') \
                from None
        if path == ('meta', 'config'):
            line = gpu_ids_line(module)
            if line is None:
                del parent['config']
            else:
                parent['config'] = line


#: what torch raises for a file it cannot parse; anything else (a caller's
#: timeout, KeyboardInterrupt, an I/O error) goes up unchanged
_PARSE_ERRORS = (pickle.UnpicklingError, RuntimeError, EOFError, ValueError,
                 TypeError, KeyError, IndexError, AttributeError,
                 AssertionError, OverflowError)


def load_checkpoint_file(filename: Union[str, os.PathLike],
                         map_location: Any = None,
                         max_bytes: Optional[int] = None) -> dict:
    """Load a local checkpoint with ``torch.load(weights_only=True)`` and
    :data:`SAFE_GLOBALS`; see the module docstring for what is refused.

    Args:
        filename: path of the checkpoint (``~`` is expanded).
        map_location: as for :func:`torch.load`.
        max_bytes: the most its tensors may declare in all (e.g. what a
            model's own weights take, with a margin); None: only what the
            file holds (:mod:`~a2mm.utils.checkpoint.declared_sizes`).

    Returns:
        dict: the checkpoint, numpy values as plain numpy objects and
        ``meta['config']`` reduced to its ``gpu_ids`` line.

    Raises:
        FileNotFoundError: no such file.
        CheckpointLoadError: the file is refused (message: file and why).
        CheckpointMismatchError: its ``state_dict`` holds values that
            cannot be weights (numpy arrays, strings, ``meta`` tensors,
            keys that are not strings), named with what they hold.
    """
    filename = osp.expanduser(os.fspath(filename))
    with open_checkpoint(filename) as f:
        try:
            check_declared_sizes(f, max_bytes)
        except DeclaredSizeError as e:
            raise CheckpointLoadError(
                f'refused checkpoint {filename}: {e}') from None
        try:
            checkpoint = torch.load(
                f, map_location=map_location, weights_only=True)
        except _PARSE_ERRORS as e:
            refused = isinstance(e, pickle.UnpicklingError)
            raise CheckpointLoadError(
                f'refused checkpoint {filename}: {_torch_reason(e)}; a2mm '
                'loads only tensors and plain data, never code' if refused
                else f'cannot load checkpoint {filename}: {_torch_reason(e)} '
                '(a truncated or corrupt file, or not a PyTorch checkpoint)'
            ) from e
    if not isinstance(checkpoint, dict):
        raise CheckpointLoadError(
            f'{filename} holds a {type(checkpoint).__name__}, not a '
            'checkpoint (a dict of weights)')
    try:
        checkpoint = to_plain_numpy(checkpoint, (HistoryBuffer, ))
    except RecursionError:
        raise CheckpointLoadError(
            f'refused checkpoint {filename}: nested too deeply') from None
    _disarm_config_text(checkpoint, filename)
    _check_weights(checkpoint, filename)
    return checkpoint


def _check_weights(checkpoint: dict, filename: str) -> None:
    """Refuse a ``state_dict`` whose values cannot be weights: every
    loader after this one (MMEngine's ``load_state_dict``, MMAction2's
    inferencer) would skip them with a warning and leave the model random.
    A bare state dict (no ``state_dict`` key) is checked against the model
    by :func:`~.state_dict_report.compare_state_dicts`."""
    state = checkpoint.get('state_dict')
    if not isinstance(state, dict):
        return
    refuse_values_not_weights(compare_state_dicts({}, state, ()), filename)


#: (the model, what its checkpoints may declare) for MMEngine's loads, set
#: by :func:`set_model_budget`; void once the model is gone
_MODEL_BUDGET: ContextVar[Optional[Tuple[weakref.ref, int]]] = ContextVar(
    'a2mm_model_budget', default=None)


def set_model_budget(model: torch.nn.Module) -> Token:
    """Bound what checkpoints loaded through MMEngine (the runner's
    ``load_from`` / ``--resume``, the backbones' ``pretrained``) may declare
    to :func:`~.declared_sizes.model_budget` of ``model``, while ``model``
    lives. :class:`~a2mm.engine.hooks.CheckpointShapeCheckHook` sets it in
    ``before_run`` and resets it in ``after_run``.

    Returns:
        Token: for :func:`reset_model_budget`.
    """
    return _MODEL_BUDGET.set((weakref.ref(model), model_budget(model)))


def reset_model_budget(token: Token) -> None:
    """Undo :func:`set_model_budget`."""
    _MODEL_BUDGET.reset(token)


def current_model_budget() -> Optional[int]:
    """The budget of :func:`set_model_budget`, None if none is set or its
    model is gone."""
    budget = _MODEL_BUDGET.get()
    return budget[1] if budget is not None and budget[0]() is not None \
        else None


def load_from_safe_local(filename: str,
                         map_location: Optional[Any] = None) -> dict:
    """MMEngine's loader for local paths (``CheckpointLoader`` logs
    "Loads checkpoint by safe_local backend"): :func:`load_checkpoint_file`,
    within the budget of :func:`set_model_budget` if one is set."""
    return load_checkpoint_file(filename, map_location,
                                current_model_budget())
