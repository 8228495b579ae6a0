"""``_base_ = ['mmaction::...']`` and ``['a2mm::...']`` (a2mm.compat)."""
import os.path as osp
import subprocess
import sys
import textwrap

import pytest
from mmengine.config import Config

import a2mm  # noqa: F401  (installs the resolver)
from a2mm.compat.config_paths import resolve_external_config
from a2mm.mim import shipped_dir

MM_I3D_NL = ('mmaction::recognition/i3d/i3d_imagenet-pretrained-r50-nl-'
             'dot-product_8xb8-32x2x1-100e_kinetics400-rgb.py')
REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def test_mmaction_base_without_pkg_resources(tmp_path):
    # pkg_resources blocked: mmengine 0.10.7's own resolver fails so
    (tmp_path / 'my_exp.py').write_text(
        f'_base_ = [{MM_I3D_NL!r}]\n'
        "model = dict(backbone=dict(type='A2ResNet3d', a2='res34_5'))\n")
    code = textwrap.dedent('''
        import sys
        sys.modules['pkg_resources'] = None
        import a2mm
        from mmengine.config import Config
        cfg = Config.fromfile(sys.argv[1])
        b = cfg.model.backbone
        print(b.type, b.non_local_cfg.mode, cfg.model._scope_)
    ''')
    out = subprocess.run(
        [sys.executable, '-c', code, str(tmp_path / 'my_exp.py')],
        capture_output=True, text=True, timeout=120, cwd=str(tmp_path),
        env=dict(__import__('os').environ, PYTHONPATH=REPO))
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.split() == ['A2ResNet3d', 'dot_product', 'mmaction']


def test_readme_mmaction_child_builds_with_a2_blocks(tmp_path):
    # the README's example: MMAction2's I3D config with A² blocks
    from mmaction.registry import MODELS
    from mmengine.registry import init_default_scope
    mm_i3d = MM_I3D_NL.replace('-nl-dot-product', '')
    (tmp_path / 'my_exp.py').write_text(
        f'_base_ = [{mm_i3d!r}]\n'
        "custom_imports = dict(imports=['a2mm'], "
        'allow_failed_imports=False)\n'
        "model = dict(backbone=dict(type='A2ResNet3d', a2='res34_5', "
        'pretrained=None))\n')
    cfg = Config.fromfile(str(tmp_path / 'my_exp.py'))
    init_default_scope('mmaction')
    backbone = MODELS.build(cfg.model.backbone)
    blocks = [n for n, _ in backbone.named_modules()
              if n.endswith('a2_block')]
    assert len(blocks) == 5, blocks


def test_a2mm_base_is_the_same_config_as_the_file(tmp_path):
    (tmp_path / 'my_exp.py').write_text(
        "_base_ = ['a2mm::a2_r50_kinetics.py']\n")
    child = Config.fromfile(str(tmp_path / 'my_exp.py'))
    direct = Config.fromfile(osp.join(shipped_dir('configs'),
                                      'a2_r50_kinetics.py'))
    assert child.model._scope_ == 'mmaction'  # a2mm registers there
    assert child.default_scope == 'mmaction'
    for key in ('model', 'train_cfg', 'param_scheduler', 'train_dataloader',
                'custom_hooks'):
        assert _unscoped(child[key]) == _unscoped(direct[key]), key


def test_child_of_an_external_base_passes_check_config(tmp_path):
    from a2mm.apis.config_check import check_config
    (tmp_path / 'my_exp.py').write_text(
        "_base_ = ['a2mm::a2_r50_kinetics.py']\n")
    cfg = Config.fromfile(str(tmp_path / 'my_exp.py'))
    assert cfg.train_cfg._scope_ == 'mmaction'
    check_config(cfg, 'train')  # `_scope_` is not an unknown argument


def _unscoped(value):
    # the `_scope_` keys mmengine adds to the outer dicts of an external base
    if isinstance(value, dict):
        return {k: _unscoped(v) for k, v in value.items() if k != '_scope_'}
    if isinstance(value, (list, tuple)):
        return [_unscoped(v) for v in value]
    return value


def test_errors_name_the_path():
    with pytest.raises(ValueError, match="'mmfoo::x/y.py'.*'mmaction'"):
        resolve_external_config('mmfoo::x/y.py')
    with pytest.raises(FileNotFoundError, match=r'a2mm::nope/x\.py'):
        resolve_external_config('a2mm::nope/x.py')
    with pytest.raises(FileNotFoundError, match=r'\.mim/configs/nope\.py'):
        resolve_external_config('mmaction::nope.py')


def test_local_bases_still_use_mmengine():
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'i3d_r101_kinetics.py'))
    assert cfg.model.backbone.depth == 101
