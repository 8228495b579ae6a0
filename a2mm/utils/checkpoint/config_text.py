"""Read the config text that MMEngine stores in a checkpoint without
executing it.

Why: MMEngine's runner saves ``cfg.pretty_text`` as ``meta['config']``
(and the inferencer reads ``meta['cfg']`` or
``message_hub['runtime_info']['cfg']``). ``Runner.resume`` (mmengine
0.10.7, ``runner.py``) passes ``meta['config']`` to
``Config.fromstring(..., '.py')``, which *executes* it as Python, only to
read ``gpu_ids``: a checkpoint whose config text is
``_ = __import__('os').system(...)`` runs that command on ``--resume``, and
``weights_only`` cannot help because the payload is a plain string.

What: :func:`check_config_text` parses the text with :mod:`ast` and accepts
only what ``pretty_text`` writes: assignments of constants, lists, tuples,
sets, dicts and ``dict(key=...)`` calls to plain names. Anything else (a
call of another function, an attribute, an import, a name read, ``_base_``
which makes MMEngine read and run other files) is an error naming the line.
:func:`gpu_ids_line` gives the only statement ``Runner.resume`` needs.
"""
import ast
from typing import Optional

__all__ = [
    'MAX_CONFIG_TEXT', 'ConfigTextError', 'check_config_text', 'gpu_ids_line'
]

#: the longest config text a checkpoint may store (characters); the
#: ``pretty_text`` of an a2mm config has ~8,000, and parsing one character
#: can take a few hundred bytes of syntax tree
MAX_CONFIG_TEXT = 1 << 20

_DATA_NODES = (ast.Constant, ast.List, ast.Tuple, ast.Set, ast.Dict,
               ast.Load, ast.keyword, ast.USub, ast.UAdd)
#: names a config may not assign: MMEngine reads other files for ``_base_``
#: and a config that rebinds ``dict`` changes what ``dict(...)`` calls.
_FORBIDDEN_TARGETS = ('_base_', 'dict')


class ConfigTextError(ValueError):
    """Config text that is not plain data."""


def _check_value(node: ast.AST) -> None:
    """Raise unless ``node`` is plain data (see the module docstring)."""
    for sub in ast.walk(node):
        if isinstance(sub, _DATA_NODES):
            if isinstance(sub, ast.Dict) and None in sub.keys:
                raise ConfigTextError(f'line {sub.lineno}: ** in a dict')
            continue
        if isinstance(sub, ast.Call):
            if not (isinstance(sub.func, ast.Name) and sub.func.id == 'dict'
                    and not sub.args
                    and all(k.arg is not None for k in sub.keywords)):
                raise ConfigTextError(
                    f'line {sub.lineno}: calls '
                    f'{ast.unparse(sub.func)!r}; only dict(key=value) is '
                    'plain config data')
            continue
        if isinstance(sub, ast.Name) and sub.id == 'dict':
            continue  # the func of a dict(...) call checked above
        if isinstance(sub, ast.UnaryOp) and isinstance(
                sub.op, (ast.USub, ast.UAdd)) and isinstance(
                    sub.operand, ast.Constant):
            continue
        raise ConfigTextError(
            f'line {getattr(sub, "lineno", "?")}: {type(sub).__name__} '
            f'{ast.unparse(sub)!r} is not plain config data')


def check_config_text(text: str) -> ast.Module:
    """Parse ``text`` without running it and check that it is plain data.

    Returns:
        ast.Module: the parsed text.

    Raises:
        ConfigTextError: the first statement or value that is not plain
            data, with its line number.
    """
    if type(text) is not str:
        raise ConfigTextError(f'a {type(text).__name__}, not config text')
    if len(text) > MAX_CONFIG_TEXT:
        raise ConfigTextError(
            f'{len(text):,} characters, more than the {MAX_CONFIG_TEXT:,} '
            'a config may have')
    try:
        module = ast.parse(text)
    except SyntaxError as e:
        raise ConfigTextError(f'line {e.lineno}: not Python ({e.msg})') \
            from None
    except (RecursionError, MemoryError):
        # CPython's parser gives these for deep nesting (200k unary minus,
        # attribute or call chains), not for lack of memory
        raise ConfigTextError('nested too deeply to parse') from None
    for stmt in module.body:
        if not isinstance(stmt, ast.Assign) or not all(
                isinstance(t, ast.Name) for t in stmt.targets):
            raise ConfigTextError(
                f'line {stmt.lineno}: {type(stmt).__name__} statement; only '
                '`name = value` is plain config data')
        for target in stmt.targets:
            if target.id in _FORBIDDEN_TARGETS or target.id.startswith('__'):
                raise ConfigTextError(
                    f'line {stmt.lineno}: assigns {target.id!r}, which '
                    'MMEngine would act on')
        try:
            _check_value(stmt.value)
        except RecursionError:
            raise ConfigTextError(
                f'line {stmt.lineno}: nested too deeply') from None
    return module


def gpu_ids_line(module: ast.Module) -> Optional[str]:
    """``gpu_ids = [...]`` of a checked config (the last assignment), as
    the one line ``Runner.resume`` may parse; None without one."""
    line = None
    for stmt in module.body:
        if any(t.id == 'gpu_ids' for t in stmt.targets):
            try:
                line = f'gpu_ids = {list(ast.literal_eval(stmt.value))!r}'
            except (ValueError, TypeError):
                line = None  # not a list of ids: upstream ignores it too
    return line
