"""The stand-in for MMAction2 1.2.0's missing DRN package
(open-mmlab/mmaction2#2714)."""
import subprocess
import sys
import textwrap

import pytest
from mmaction.registry import MODELS

from a2mm.compat.mmaction_drn import DRN_MODULES, drn_is_missing

BROKEN_INIT = 'from .bmn import BMN\nfrom .drn.drn import DRN\n'


def _fake_mmaction(root, init_text, with_drn):
    localizers = root / 'models' / 'localizers'
    localizers.mkdir(parents=True)
    (localizers / '__init__.py').write_text(init_text)
    if with_drn:
        (localizers / 'drn').mkdir()
    return str(root)


@pytest.mark.parametrize('init_text,with_drn,missing', [
    (BROKEN_INIT, False, True),  # the 1.2.0 wheel
    (BROKEN_INIT, True, False),  # 1.2.0 from source
    ('from .bmn import BMN\n', False, False),  # 1.1.0
])
def test_drn_is_missing(tmp_path, init_text, with_drn, missing):
    assert drn_is_missing(_fake_mmaction(tmp_path, init_text,
                                         with_drn)) is missing


def test_stand_in_only_where_the_installed_mmaction_needs_it():
    import a2mm  # noqa: F401
    stand_in = getattr(sys.modules.get(DRN_MODULES[1]), '__a2mm_stand_in__',
                       False)
    assert stand_in == drn_is_missing()


def test_building_the_stand_in_names_the_upstream_bug():
    # a fresh interpreter that installs the stand-in as if the installed
    # MMAction2 were the broken wheel, then imports mmaction.models
    code = textwrap.dedent('''
        import importlib.util, sys
        spec = importlib.util.spec_from_file_location(
            'drn_shim', sys.argv[1])
        shim = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(shim)
        shim.drn_is_missing = lambda: True
        assert shim.install_drn_stand_in()
        import mmaction.models
        from mmaction.registry import MODELS
        try:
            MODELS.build(dict(type='DRN'))
        except RuntimeError as e:
            print('RAISED', e)
        MODELS.build(dict(type='ResNet3d', depth=18, pretrained=None))
        print('RESNET3D BUILT')
    ''')
    import a2mm.compat.mmaction_drn as shim
    out = subprocess.run([sys.executable, '-c', code, shim.__file__],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    assert 'RAISED' in out.stdout and 'mmaction2#2714' in out.stdout
    assert 'RESNET3D BUILT' in out.stdout


def test_registry_still_has_real_localizers():
    import a2mm  # noqa: F401
    for name in ('BMN', 'TEM', 'PEM'):
        assert MODELS.get(name) is not None
