"""configs/zoo/<family>_a2.py: one A² config per MMAction2 CNN family, a
few lines over MMAction2's own config (``mmaction::``). Each builds its
model through the registry (pretrained off: nothing is downloaded), has A²
blocks where the family default puts them, and gives the scores of the
same model without A² at init."""
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmaction.registry import MODELS

import a2mm  # noqa: F401
from a2mm.apis.zoo_sweep import (scores, small_input, with_a2,
                                  without_downloads)
from a2mm.models.blocks import A2Block

ZOO = Path(__file__).resolve().parents[1] / 'configs' / 'zoo'
CONFIGS = sorted(p.name for p in ZOO.glob('*_a2.py'))
CNN_FAMILIES = ('c2d', 'c3d', 'csn', 'i3d', 'omnisource', 'r2plus1d',
                'slowfast', 'slowonly', 'tanet', 'tin', 'tpn', 'trn', 'tsm',
                'tsn', 'x3d')


def test_one_config_per_cnn_family():
    assert CONFIGS == sorted(f'{family}_a2.py' for family in CNN_FAMILIES)


@pytest.mark.slow
@pytest.mark.parametrize('name', CONFIGS)
def test_zoo_config_builds_with_a2_at_identity(name):
    if name == 'tin_a2.py':
        pytest.skip('TIN runs only with full mmcv (compiled tin_shift)')
    cfg = without_downloads(Config.fromfile(str(ZOO / name)))
    assert 'a2mm' in cfg.custom_imports['imports']
    backbone = cfg.model.backbone
    assert backbone.type == 'A2Inserted' and backbone.stages == 'default'
    init_default_scope(cfg.get('default_scope', 'mmaction'))
    model = MODELS.build(cfg.model)
    model.init_weights()
    blocks = [m for m in model.backbone.a2_blocks.modules()
              if isinstance(m, A2Block)]
    assert len(blocks) >= 2, name
    # the plain model: the zoo config's backbone without the wrapper
    plain_cfg = cfg.model.copy()
    plain_cfg['backbone'] = backbone.backbone
    plain = MODELS.build(plain_cfg)
    state = {k.replace('backbone.backbone.', 'backbone.', 1): v
             for k, v in model.state_dict().items() if 'a2_blocks' not in k}
    plain.load_state_dict(state)
    assert with_a2(plain_cfg, None)['backbone']['backbone'] == \
        backbone.backbone
    shape, overrides = small_input(cfg)
    assert not overrides  # CNNs take any input size
    x = torch.randn((1, ) + shape[1:])
    model.eval(), plain.eval()
    with torch.no_grad():
        ours, theirs = scores(model, x), scores(plain, x)
    torch.testing.assert_close(ours, theirs, rtol=0, atol=0)
