"""Every config under configs/ (except _base_) builds through the registry,
as tools/train.py would, and runs a tiny forward pass. So do the model bases
that no top-level config uses (the image classifiers and TSN). Every config
has an entry in OpenMMLab's model index (model-index.yml and the metafiles
it imports, what ``mim search`` reads), and every entry names a config."""
import re
from pathlib import Path
from typing import Dict, List

import pytest
import torch
import yaml
from mmengine.config import Config
from mmengine.registry import init_default_scope

import a2mm  # noqa: F401
from mmaction.registry import MODELS

REPO = Path(__file__).resolve().parents[1]
CONFIGS = REPO / 'configs'
# configs/zoo/ (over MMAction2's own configs, each with its own input
# size) has its own test: tests/test_zoo_configs.py
TOP_LEVEL = sorted(
    str(p.relative_to(CONFIGS)) for p in CONFIGS.rglob('*.py')
    if not {'_base_', 'zoo'} & set(p.relative_to(CONFIGS).parts))
MODEL_ONLY_BASES = [
    '_base_/models/a2_resnet50_image.py', '_base_/models/resnet50_image.py',
    '_base_/models/resnet152_image.py', '_base_/models/tsn_a2_r50.py'
]

# Tiny inputs by the data preprocessor's format: (batch, views, C, ...).
TINY_INPUT = {
    'NCTHW': (1, 1, 3, 8, 32, 32),
    'NCHW': (1, 2, 3, 32, 32),  # 2 segments
}


def build_and_run(name: str) -> None:
    cfg = Config.fromfile(str(CONFIGS / name))
    init_default_scope(cfg.get('default_scope', 'mmaction'))
    model = MODELS.build(cfg.model)
    model.eval()
    shape = TINY_INPUT[cfg.model.data_preprocessor.format_shape]
    with torch.no_grad():
        scores = model(torch.randn(shape), mode='tensor', stage='head')
    assert scores.shape[-1] == cfg.model.cls_head.num_classes, name
    assert torch.isfinite(scores).all(), name


def test_configs_found():
    assert 'a2_r50_kinetics.py' in TOP_LEVEL
    assert any(name.startswith('ablations/') for name in TOP_LEVEL)


@pytest.mark.parametrize('name', TOP_LEVEL)
def test_config_builds_and_runs(name):
    cfg = Config.fromfile(str(CONFIGS / name))
    assert 'a2mm' in cfg.custom_imports['imports'], \
        f'{name}: custom_imports must import a2mm (from default_runtime)'
    build_and_run(name)


@pytest.mark.parametrize('name', MODEL_ONLY_BASES)
def test_model_base_builds_and_runs(name):
    build_and_run(name)


def metafile_problems(path: Path) -> List[str]:
    """What is wrong with one metafile (OpenMMLab's model-index format:
    ``Collections`` and ``Models``, each model with a ``Name``, a ``Config``
    that exists, a known ``In Collection`` and ``Metadata``)."""
    index = yaml.safe_load(path.read_text())
    if not isinstance(index, dict) or not isinstance(
            index.get('Models'), list):
        return [f'{path}: no Models list']
    collections = {c.get('Name') for c in index.get('Collections') or []}
    problems = []
    for i, model in enumerate(index['Models']):
        where = f'{path}, model {i} ({model.get("Name")!r})'
        missing = {'Name', 'Config', 'In Collection', 'Metadata'} - set(model)
        if missing:
            problems.append(f'{where}: missing {sorted(missing)}')
            continue
        if not (REPO / model['Config']).is_file():
            problems.append(f'{where}: no config {model["Config"]}')
        if model['In Collection'] not in collections:
            problems.append(f'{where}: unknown collection '
                            f'{model["In Collection"]!r}')
        if not {'Architecture', 'Training Data'} <= set(model['Metadata']):
            problems.append(f'{where}: Metadata needs Architecture and '
                            'Training Data')
    return problems


def indexed_models() -> Dict[str, str]:
    """Name -> config path of every model in the model index."""
    index = yaml.safe_load((REPO / 'model-index.yml').read_text())
    models = {}
    for metafile in index['Import']:
        for model in yaml.safe_load((REPO / metafile).read_text())['Models']:
            assert model['Name'] not in models, f'{model["Name"]} twice'
            models[model['Name']] = model['Config']
    return models


def test_every_metafile_entry_parses_and_names_a_config():
    index = yaml.safe_load((REPO / 'model-index.yml').read_text())
    assert index['Import'], 'model-index.yml imports no metafile'
    for metafile in index['Import']:
        assert metafile_problems(REPO / metafile) == []


def test_every_config_is_in_the_index_under_its_own_name():
    models = indexed_models()
    assert sorted(models.values()) == sorted(
        f'configs/{p.relative_to(CONFIGS)}' for p in CONFIGS.rglob('*.py')
        if '_base_' not in p.relative_to(CONFIGS).parts)
    for name, config in models.items():
        assert Path(config).stem == name


def test_configs_the_readme_names_are_indexed():
    named = set(re.findall(r'`(configs/[\w/]+\.py)`',
                           (REPO / 'README.md').read_text()))
    top_level = {n for n in named if '_base_' not in n}
    assert 'configs/a2_r50_kinetics.py' in top_level
    assert top_level <= set(indexed_models().values())


def test_a_broken_entry_is_named(tmp_path):
    bad = tmp_path / 'metafile.yml'
    bad.write_text(yaml.safe_dump(dict(
        Collections=[dict(Name='A2Net')],
        Models=[dict(Name='gone', Config='configs/gone.py',
                     **{'In Collection': 'A2Net'},
                     Metadata={'Architecture': 'x', 'Training Data': 'y'}),
                dict(Name='stray', Config='configs/a2_r50_kinetics.py',
                     **{'In Collection': 'Other'}, Metadata={}),
                dict(Name='bare')])))
    problems = metafile_problems(bad)
    assert len(problems) == 4, problems
    assert "'gone'): no config configs/gone.py" in problems[0]
    assert "unknown collection 'Other'" in problems[1]
    assert 'Metadata needs' in problems[2]
    assert "'bare'): missing" in problems[3]
