"""a2mm.apis.zoo_sweep: the parts of one sweep row that need no model run
(the full row is tested through the tool, tests/tools/test_zoo_sweep.py)."""
from mmengine.config import Config

import a2mm  # noqa: F401
from a2mm.apis.zoo_sweep import (needed_package, recognition_configs,
                                 small_input, with_a2, without_downloads)


def test_without_downloads_reaches_nested_backbones():
    cfg = Config(dict(
        model=dict(
            type='Recognizer3D',
            backbone=dict(
                type='ResNet3dSlowFast', pretrained='https://x/a.pth',
                slow_pathway=dict(type='resnet3d', pretrained='b.pth'),
                init_cfg=dict(type='Pretrained', checkpoint='c.pth')),
            cls_head=dict(type='I3DHead', num_classes=2, in_channels=8)),
        load_from='d.pth'))
    cfg = without_downloads(cfg)
    backbone = cfg.model.backbone
    assert backbone.pretrained is None and 'init_cfg' not in backbone
    assert backbone.slow_pathway.pretrained is None
    assert cfg.load_from is None
    tsm = without_downloads(Config(dict(model=dict(
        backbone=dict(type='ResNetTSM', pretrained='torchvision://r50')))))
    # ResNetTSM's default pretrained2d=True would load `pretrained` (None)
    assert tsm.model.backbone.pretrained2d is False


def test_needed_package_and_small_input():
    tv = Config(dict(model=dict(
        type='Recognizer2D', backbone=dict(type='torchvision.resnet50'))))
    try:
        import torchvision  # noqa: F401
        assert needed_package(tv) is None
    except ImportError:
        assert needed_package(tv) == 'torchvision'
    c3d = Config(dict(model=dict(
        type='Recognizer3D', backbone=dict(type='C3D'),
        data_preprocessor=dict(format_shape='NCTHW'))))
    assert small_input(c3d) == ((2, 1, 3, 16, 112, 112), {})
    wrapped = with_a2(c3d.model, None)
    assert wrapped['backbone'] == dict(type='A2Inserted',
                                       backbone=dict(type='C3D'),
                                       stages='default')
    assert small_input(Config(dict(model=wrapped))) == small_input(c3d)
    vit = Config(dict(model=dict(type='Recognizer3D', backbone=dict(
        type='VisionTransformer'))))
    assert small_input(vit) == ((2, 1, 3, 4, 32, 32),
                                {'num_frames': 4, 'img_size': 32})


def test_recognition_configs_are_found_by_family():
    found = recognition_configs()
    families = {family for family, _ in found}
    assert {'i3d', 'tsn', 'swin', 'x3d'} <= families
    # TSN's custom backbones sit one folder deeper, still family tsn
    assert any('custom_backbones' in path and family == 'tsn'
               for family, path in found)
