"""The package's layers import one way (docs/architecture.md): read every
module's imports from its source and compare them with the allowed table,
which is the one docs/architecture.md shows."""
import ast
import os
import os.path as osp
import re
from typing import Iterator, Tuple

import pytest

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))

#: layer -> the a2mm layers it may import (besides itself)
ALLOWED = {
    'registry': set(),
    'version': set(),
    'mim': set(),
    'cli': {'mim'},
    'compat': {'mim', 'utils'},
    'utils': {'registry', 'version'},
    'models': {'registry', 'utils'},
    'datasets': {'registry', 'utils'},
    'evaluation': {'datasets', 'registry', 'utils'},
    'engine': {'datasets', 'evaluation', 'registry', 'utils'},
    'apis': {'datasets', 'engine', 'evaluation', 'models', 'registry',
             'utils'},
}


def documented_table() -> dict:
    """layer -> the layers docs/architecture.md says it may import (its
    table: first column the layer's path, last column the allowed ones)."""
    table = {}
    for line in open(osp.join(REPO, 'docs', 'architecture.md')):
        cells = [c.strip() for c in line.strip().strip('|').split('|')]
        if not line.startswith('| `a2mm/') or len(cells) != 3:
            continue
        allowed = set(re.findall(r'`(\w+)`', cells[2]))
        for path in re.findall(r'`a2mm/(\w+)', cells[0]):
            table[path] = allowed
    return table


def test_the_documented_table_is_the_checked_one():
    assert documented_table() == ALLOWED


def python_files(top: str) -> Iterator[str]:
    for root, _, files in os.walk(osp.join(REPO, top)):
        yield from (osp.join(root, f) for f in sorted(files)
                    if f.endswith('.py'))


def module_name(path: str) -> str:
    name = osp.relpath(path, REPO)[:-3].replace(os.sep, '.')
    return name[:-len('.__init__')] if name.endswith('.__init__') else name


def imported_modules(path: str) -> Iterator[Tuple[int, str]]:
    """(line, absolute module name) of every import in ``path``; for
    ``from x import y`` both ``x`` and ``x.y`` (y may be a module)."""
    tree = ast.parse(open(path).read(), path)
    package = module_name(path)
    if not path.endswith('__init__.py'):
        package = package.rpartition('.')[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ''
            if node.level:
                parts = package.split('.')
                parts = parts[:len(parts) - node.level + 1]
                base = '.'.join(parts + ([base] if base else []))
            yield node.lineno, base
            for alias in node.names:
                yield node.lineno, f'{base}.{alias.name}'


def a2mm_layer(module: str) -> str:
    """'a2mm.engine.hooks.x' -> 'engine'; '' for modules outside a2mm and
    for the package itself."""
    parts = module.split('.')
    return parts[1] if parts[0] == 'a2mm' and len(parts) > 1 else ''


def test_every_layer_is_in_the_table():
    layers = {a2mm_layer(module_name(p)) for p in python_files('a2mm')}
    assert layers - {''} == set(ALLOWED)


@pytest.mark.parametrize('path', [
    p for p in python_files('a2mm') if a2mm_layer(module_name(p))
], ids=lambda p: osp.relpath(p, REPO))
def test_layer_imports_only_what_it_may(path):
    layer = a2mm_layer(module_name(path))
    allowed = ALLOWED[layer] | {layer, ''}
    wrong = sorted({f'line {line}: {module}'
                    for line, module in imported_modules(path)
                    if a2mm_layer(module) not in allowed
                    and module.startswith('a2mm.')})
    assert not wrong, f'{layer} may import {sorted(ALLOWED[layer])}: {wrong}'


@pytest.mark.parametrize('path', list(python_files('tools')),
                         ids=lambda p: osp.relpath(p, REPO))
def test_tools_do_not_import_models(path):
    """Scripts use the package's public API (apis, datasets, utils) and the
    registries; models are built from configs."""
    wrong = [f'line {line}: {module}'
             for line, module in imported_modules(path)
             if a2mm_layer(module) == 'models']
    assert not wrong, wrong


def test_the_checker_sees_a_wrong_import(tmp_path):
    """The table check would catch models importing engine."""
    path = tmp_path / 'bad.py'
    path.write_text('from a2mm.engine.hooks import BadVideoHook\n')
    found = [module for _, module in imported_modules(str(path))]
    assert 'a2mm.engine.hooks' in found
    assert a2mm_layer('a2mm.engine.hooks.BadVideoHook') == 'engine'
    assert 'engine' not in ALLOWED['models']


ENTRY_POINT_SHIMS = {'tools/train.py', 'tools/test.py'}


@pytest.mark.parametrize('path', [
    p for top in ('a2mm', 'tools', 'tests') for p in python_files(top)
    if osp.relpath(p, REPO) not in ENTRY_POINT_SHIMS
], ids=lambda p: osp.relpath(p, REPO))
def test_no_sys_path_edits_outside_the_entry_point_shims(path):
    """Only tools/train.py and tools/test.py put the checkout on sys.path
    (to run from a clone); everything else imports the installed
    package."""
    tree = ast.parse(open(path).read(), path)
    edits = [node.lineno for node in ast.walk(tree)
             if isinstance(node, ast.Attribute)
             and node.attr in ('insert', 'append', 'extend')
             and isinstance(node.value, ast.Attribute)
             and node.value.attr == 'path'
             and isinstance(node.value.value, ast.Name)
             and node.value.value.id == 'sys']
    assert not edits, f'sys.path edited at lines {edits}'
