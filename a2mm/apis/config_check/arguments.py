"""Step 3 of :func:`~.check.check_config`: a typed dict against the class
(or function) its registry builds: a ``type`` that is not registered (with
close matches), missing required arguments, unknown ones that look like
typos of a real one."""
import difflib
import inspect
from typing import Any, List, Set, Tuple

from mmengine.registry import Registry

from .registry_tables import (ALL_REGISTRIES, FILLED_BY_RUNNER, lookup,
                              registry_names)

__all__ = ['constructor_arguments', 'check_typed']


def constructor_arguments(obj: Any) -> Tuple[Set[str], Set[str], bool]:
    """(required, accepted, takes **kwargs) of building ``obj``. Accepted
    names follow ``**kwargs`` up the MRO (it usually goes to the parent)."""
    if not inspect.isclass(obj):
        params = inspect.signature(obj).parameters.values()
        required = {
            p.name
            for p in params if p.default is p.empty
            and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
        }
        var_kw = any(p.kind == p.VAR_KEYWORD for p in params)
        return required, {p.name for p in params}, var_kw
    required: Set[str] = set()
    accepted: Set[str] = set()
    own_var_kw = None
    for klass in obj.__mro__:
        if '__init__' not in vars(klass) or klass is object:
            continue
        try:
            params = list(
                inspect.signature(vars(klass)['__init__']).parameters.values())
        except (TypeError, ValueError):
            break
        params = params[1:]  # self
        var_kw = any(p.kind == p.VAR_KEYWORD for p in params)
        if own_var_kw is None:
            own_var_kw = var_kw
            required = {
                p.name
                for p in params if p.default is p.empty
                and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
            }
        accepted |= {
            p.name
            for p in params if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
        }
        if not var_kw:
            break
    return required, accepted, bool(own_var_kw)


def check_typed(path: str, cfg: dict, registry: Registry,
                 problems: List[str]) -> None:
    name = cfg['type']
    if not isinstance(name, str):
        return  # a class object (pure-Python config): nothing to look up
    obj = lookup(registry, name)
    if obj is None:
        if any(lookup(r, name) is not None for r in ALL_REGISTRIES):
            return  # registered elsewhere: a key this check does not map
        close = difflib.get_close_matches(
            name.split('.')[-1], sorted(registry_names(registry)), n=3,
            cutoff=0.6)
        hint = f'; did you mean {close}?' if close else ''
        problems.append(f'{path}.type: {name!r} is not a registered '
                        f'{registry.name} type{hint}')
        return
    required, accepted, var_kw = constructor_arguments(obj)
    # `_scope_`: set by mmengine on the dicts of a `pkg::` base; popped by
    # Registry.build, never passed to the class
    keys = set(cfg) - {'type', '_scope_'}
    required -= FILLED_BY_RUNNER.get(registry.name, set())
    for missing in sorted(required - keys):
        problems.append(f'{path}.{missing}: missing; {name} needs it')
    for unknown in sorted(keys - accepted):
        close = difflib.get_close_matches(unknown, sorted(accepted), n=3)
        if close:
            problems.append(f'{path}.{unknown}: {name} has no argument '
                            f'{unknown!r}; did you mean {close}?')
        elif not var_kw:
            problems.append(
                f'{path}.{unknown}: {name} has no argument {unknown!r}; '
                f'it takes {sorted(accepted)}')
