"""Which types the config text stored in a checkpoint may name.

Why: plain config data is still code to MMEngine. MMEngine's
``BaseInferencer._init_model`` (MMAction2's ``ActionRecogInferencer(
model=None, weights=...)``) builds the model of the config text it finds in
the checkpoint (``message_hub['runtime_info']['cfg']`` or ``meta['cfg']``),
and ``Registry.get`` (mmengine 0.10.7, ``registry.py``) resolves a name it
does not find with ``get_object_from_string``: ``type='subprocess.run'``
with ``args='touch /tmp/x', shell=True`` runs the command, and an
unregistered plain name (``type='antigravity'``) imports that module.
``custom_imports`` imports any installed module (``Config.fromstring``),
and an unknown ``default_scope`` / ``_scope_`` makes the registry import
``<scope>.registry``.

What: :func:`check_config_types` walks every dict of the parsed text (at
any depth, inside lists and tuples too) and accepts:

* ``type``, ``constructor`` and a string ``collate_fn``: a name registered
  in a registry of MMEngine's registry tree (MMEngine, MMCV, MMAction2,
  a2mm), optionally prefixed by the scope that registers it
  (``mmaction.Recognizer3D``), and not also the name of an importable
  module;
* ``default_scope`` and ``_scope_``: the scope of a registry in that tree;
* ``custom_imports``: only modules already imported (importing them again
  runs nothing; a2mm's own checkpoints name ``a2mm``).

Anything else is a :class:`ConfigTypeError` naming the line.
"""
import ast
import importlib.util
import sys
from functools import lru_cache
from typing import Dict, FrozenSet, Iterator, List, Tuple

import mmengine.registry as root_registries
from mmengine.registry import Registry

from .config_text import ConfigTextError

__all__ = ['ConfigTypeError', 'check_config_types']

class ConfigTypeError(ConfigTextError):
    """Config text that names what MMEngine would import."""


#: keys whose string value MMEngine resolves to a callable by name
_NAME_KEYS = ('type', 'constructor', 'collate_fn')
_SCOPE_KEYS = ('default_scope', '_scope_')


def _registries() -> Iterator[Registry]:
    """Every registry of MMEngine's tree (roots and their children)."""
    todo = [r for r in vars(root_registries).values()
            if isinstance(r, Registry)]
    seen = set()
    while todo:
        registry = todo.pop()
        if id(registry) in seen:
            continue
        seen.add(id(registry))
        yield registry
        todo.extend(registry._children.values())


def _registered() -> Dict[str, FrozenSet[str]]:
    """scope -> names registered under it, now (modules imported later add
    names, so this is not cached)."""
    names: Dict[str, set] = {}
    for registry in _registries():
        try:
            registry.import_from_location()
        except ImportError:  # mmaction's FUNCTION names a missing module
            pass
        names.setdefault(registry.scope, set()).update(registry.module_dict)
    return {scope: frozenset(n) for scope, n in names.items()}


@lru_cache(maxsize=None)
def _is_module(name: str) -> bool:
    """Whether ``name`` is an importable top-level module (found without
    importing anything)."""
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def _check_name(key: str, name: str, lineno: int,
                registered: Dict[str, FrozenSet[str]]) -> None:
    scope, _, real = name.rpartition('.')
    allowed = set().union(*registered.values()) if not scope else \
        registered.get(scope, frozenset())
    if real in allowed and '.' not in scope and not (not scope and
                                                     _is_module(name)):
        return
    raise ConfigTypeError(
        f'line {lineno}: {key}={name!r} is not a registered name (a '
        'config stored in a checkpoint may only name types registered in '
        "the OpenMMLab registries; MMEngine would import a dotted name)")


def _pairs(node: ast.AST) -> Iterator[Tuple[str, ast.AST]]:
    """(key, value) of every dict in ``node``, at any depth."""
    for sub in ast.walk(node):
        if isinstance(sub, ast.Dict):
            for key, value in zip(sub.keys, sub.values):
                if isinstance(key, ast.Constant) and type(key.value) is str:
                    yield key.value, value
        elif isinstance(sub, ast.Call):  # dict(key=value), checked plain
            for keyword in sub.keywords:
                yield keyword.arg, keyword.value


def _import_names(value: ast.AST) -> List[str]:
    """The module names of a ``custom_imports`` value (a name, a list of
    names, or ``dict(imports=...)``)."""
    if isinstance(value, ast.Call):
        value = next((k.value for k in value.keywords if k.arg == 'imports'),
                     ast.List(elts=[]))
    elif isinstance(value, ast.Dict):
        value = next((v for k, v in zip(value.keys, value.values)
                      if isinstance(k, ast.Constant) and k.value == 'imports'),
                     ast.List(elts=[]))
    try:
        names = ast.literal_eval(value)
    except (ValueError, TypeError, SyntaxError):
        names = None
    names = [names] if isinstance(names, str) else names
    if not isinstance(names, (list, tuple)) or not all(
            isinstance(n, str) for n in names):
        raise ConfigTypeError(f'line {value.lineno}: custom_imports is not '
                              'a list of module names')
    return list(names)


def check_config_types(module: ast.Module) -> None:
    """Check the names a config (parsed and checked as plain data by
    :func:`~.config_text.check_config_text`) would build or import.

    Raises:
        ConfigTextError: the first name that is not allowed (see the
            module docstring), with its line.
    """
    registered = _registered()
    pairs = [(t.id, stmt.value) for stmt in module.body
             for t in stmt.targets]
    pairs += [pair for stmt in module.body for pair in _pairs(stmt.value)]
    for key, value in pairs:
        text = value.value if isinstance(value, ast.Constant) and type(
            value.value) is str else None
        if key in _NAME_KEYS and text is not None:
            _check_name(key, text, value.lineno, registered)
        elif key in _SCOPE_KEYS and text is not None and \
                text not in registered:
            raise ConfigTypeError(
                f'line {value.lineno}: {key}={text!r} is not the scope of a '
                f'registry ({", ".join(sorted(s for s in registered if s))})'
                '; MMEngine would import its registry module')
        elif key == 'custom_imports':
            new = [n for n in _import_names(value) if n not in sys.modules]
            if new:
                raise ConfigTypeError(
                    f'line {value.lineno}: custom_imports names {new}, not '
                    'imported yet; a config stored in a checkpoint may not '
                    'import modules (import them first if you trust them)')
