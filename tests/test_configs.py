"""Every config under configs/ (except _base_) builds through the registry,
as tools/train.py would, and runs a tiny forward pass. So do the model bases
that no top-level config uses (the image classifiers and TSN)."""
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

import a2mm  # noqa: F401
from mmaction.registry import MODELS

CONFIGS = Path(__file__).resolve().parents[1] / 'configs'
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
