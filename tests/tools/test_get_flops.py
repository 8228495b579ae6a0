"""tools/analysis/get_flops.py: parameters and FLOPs from configs, the A²
block's products all counted (including baddbmm, which MMEngine lacks)."""
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from mmengine.config import Config

from tests.helpers.tools import load_tool

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / 'tools' / 'analysis' / 'get_flops.py'
get_flops = load_tool('tools/analysis/get_flops.py')

TINY = """
model = dict(
    type='Recognizer3D',
    backbone=dict(
        type='{type}', depth=50, stage_blocks=(1, 1, 1), num_stages=3,
        base_channels=8, out_indices=(2, ), spatial_strides=(1, 2, 2),
        temporal_strides=(1, 1, 1), dilations=(1, 1, 1), pretrained=None,
        {extra}),
    cls_head=dict(type='I3DHead', num_classes=5, in_channels=128),
    data_preprocessor=dict(type='ActionDataPreprocessor',
                           format_shape='NCTHW'))
"""


@pytest.fixture
def tiny_configs(tmp_path):
    plain = tmp_path / 'plain.py'
    plain.write_text(TINY.format(type='ResNet3d', extra=''))
    a2 = tmp_path / 'a2.py'
    a2.write_text(TINY.format(type='A2ResNet3d', extra='a2=(0, 1, 0)'))
    return str(plain), str(a2)


def test_counts_every_product_of_the_a2_block(tiny_configs):
    plain_cfg, a2_cfg = tiny_configs
    plain, a2 = get_flops.main([plain_cfg, a2_cfg, '--shape', '4', '32',
                                '32'])
    assert plain.input_shape == a2.input_shape == (1, 1, 3, 4, 32, 32)

    model = get_flops.build_model(Config.fromfile(a2_cfg))
    assert a2.params == sum(p.numel() for p in model.parameters())
    (block, ) = [m for m in model.modules() if hasattr(m, 'zero_init_last')]
    assert a2.params - plain.params == sum(
        p.numel() for p in block.parameters())

    positions = []
    block.register_forward_hook(
        lambda mod, args, out: positions.append(args[0][0, 0].numel()))
    with torch.no_grad():
        model(torch.zeros(a2.input_shape), mode='tensor', stage='head')
    c, m, n = block.in_channels, block.descriptor_channels, \
        block.num_descriptors
    big_n = positions[0]
    # phi/theta/rho, the gather product and the distribute product: these
    # are unavoidable; folding W_out into the descriptors costs C*m*n more,
    # not folding it C*m*N more.
    least = (m + 2 * n) * c * big_n + m * n * big_n + c * n * big_n
    extra = a2.flops - plain.flops
    assert least <= extra <= least + c * m * n + c * m * big_n


def test_input_shape_from_the_val_pipeline():
    cfg = Config.fromfile(str(ROOT / 'configs' / 'a2_r50_kinetics.py'))
    clip_len = next(t['clip_len'] for t in cfg.val_dataloader.dataset.pipeline
                    if t['type'] == 'SampleFrames')
    assert get_flops.input_shape_of(cfg) == (1, 1, 3, clip_len, 224, 224)
    assert get_flops.input_shape_of(cfg, (4, 64, 96)) == (1, 1, 3, 4, 64, 96)


def test_image_model_defaults_to_224():
    cfg = Config.fromfile(
        str(ROOT / 'configs' / '_base_' / 'models' / 'resnet50_image.py'))
    assert get_flops.input_shape_of(cfg) == (1, 1, 3, 224, 224)


def test_clip_model_without_pipeline_needs_shape(tiny_configs):
    with pytest.raises(ValueError, match='pass --shape T H W'):
        get_flops.input_shape_of(Config.fromfile(tiny_configs[0]))
    with pytest.raises(ValueError, match='does not fit'):
        get_flops.input_shape_of(Config.fromfile(tiny_configs[0]), (32, 32))


def test_command_line(tiny_configs):
    result = subprocess.run(
        [sys.executable, str(SCRIPT), tiny_configs[1], '--shape', '4', '32',
         '32'],
        capture_output=True, text=True, cwd=str(ROOT.parent), timeout=300)
    assert result.returncode == 0, result.stderr
    assert '| config |' in result.stdout
    assert 'a2.py | (1, 1, 3, 4, 32, 32) |' in result.stdout
