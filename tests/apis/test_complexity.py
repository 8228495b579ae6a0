"""a2mm.apis.complexity: parameters and FLOPs from configs, the A² block's
products all counted (including baddbmm, which MMEngine lacks), and the
input shape of one view read from the config."""
from pathlib import Path

import pytest
import torch
from mmengine.config import Config

from a2mm.apis.complexity import (Complexity, build_model, input_shape_of,
                                  markdown_table, measure)

ROOT = Path(__file__).resolve().parents[2]

def test_counts_every_product_of_the_a2_block(tiny_configs):
    plain_cfg, a2_cfg = tiny_configs
    plain, a2 = (measure(c, (4, 32, 32)) for c in (plain_cfg, a2_cfg))
    assert plain.input_shape == a2.input_shape == (1, 1, 3, 4, 32, 32)

    model = build_model(Config.fromfile(a2_cfg))
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
    assert input_shape_of(cfg) == (1, 1, 3, clip_len, 224, 224)
    assert input_shape_of(cfg, (4, 64, 96)) == (1, 1, 3, 4, 64, 96)


def test_image_model_defaults_to_224():
    cfg = Config.fromfile(
        str(ROOT / 'configs' / '_base_' / 'models' / 'resnet50_image.py'))
    assert input_shape_of(cfg) == (1, 1, 3, 224, 224)


def test_clip_model_without_pipeline_needs_shape(tiny_configs):
    with pytest.raises(ValueError, match='pass --shape T H W'):
        input_shape_of(Config.fromfile(tiny_configs[0]))
    with pytest.raises(ValueError, match='does not fit'):
        input_shape_of(Config.fromfile(tiny_configs[0]), (32, 32))


def test_other_formats_are_refused(tiny_configs):
    cfg = Config.fromfile(tiny_configs[0])
    cfg.model.data_preprocessor.format_shape = 'NCTHW_Heatmap'
    with pytest.raises(ValueError, match="'NCTHW_Heatmap' is not supported"):
        input_shape_of(cfg, (4, 32, 32))


def test_markdown_table():
    table = markdown_table([Complexity('a.py', (1, 1, 3, 224, 224),
                                       25_560_000, 4_110_000_000)])
    assert table.splitlines()[2] == \
        '| a.py | (1, 1, 3, 224, 224) | 25.56 | 4.11 |'
