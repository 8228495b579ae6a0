"""The import-time check of mmengine / mmcv / MMAction2 versions."""
import pytest

from a2mm.compat import dependencies
from a2mm.compat.dependencies import SUPPORTED, find_problems

IN_RANGE = {'mmengine': '0.10.7', 'mmcv': '2.1.0', 'mmaction': '1.2.0'}


@pytest.mark.parametrize('versions', [
    IN_RANGE,
    {'mmengine': '0.10.0', 'mmcv': '2.0.0', 'mmaction': '1.1.0'},
    {'mmengine': '0.10.7', 'mmcv': '2.0.1', 'mmaction': '1.2.0'},
])
def test_supported_stacks_pass(versions):
    assert find_problems(versions) == {}


@pytest.mark.parametrize('module,version,fix', [
    ('mmcv', '2.2.0', 'mim install "mmcv>=2.0.0,<2.2.0"'),
    ('mmcv', '1.7.2', 'pip install "mmcv-lite>=2.0.0,<2.2.0"'),
    ('mmengine', '0.9.1', 'pip install "mmengine>=0.10.0,<0.11"'),
    ('mmengine', '0.11.0', 'pip install "mmengine>=0.10.0,<0.11"'),
    ('mmaction', '1.0.0', 'pip install "mmaction2>=1.1.0,<1.3"'),
    ('mmaction', '1.3.0', 'pip install "mmaction2>=1.1.0,<1.3"'),
])
def test_out_of_range_names_version_and_fix(module, version, fix):
    problems = find_problems(dict(IN_RANGE, **{module: version}))
    assert list(problems) == [module]
    assert f'{module} {version} is installed' in problems[module]
    assert fix in problems[module]


def test_missing_module_is_named():
    problems = find_problems(dict(IN_RANGE, mmcv=None))
    assert 'mmcv is not installed' in problems['mmcv']
    assert 'mmcv-lite' in problems['mmcv']


def test_unparsable_version_is_a_problem():
    assert 'mmcv' in find_problems(dict(IN_RANGE, mmcv='not-a-version'))


def test_installed_stack_passes_and_a_bad_one_raises(monkeypatch):
    dependencies.check_dependencies()  # the stack the suite runs on
    monkeypatch.setattr(dependencies, '_installed_versions',
                        lambda: dict(IN_RANGE, mmcv='2.2.0'))
    with pytest.raises(ImportError, match=r'(?s)mmcv 2\.2\.0 is installed.*'
                       r'constraints\.txt'):
        dependencies.check_dependencies()


def test_ranges_are_those_of_setup_py():
    with open(dependencies.__file__.replace(
            'a2mm/compat/dependencies.py', 'setup.py')) as f:
        setup = f.read()
    low, high, _ = SUPPORTED['mmaction']
    assert f"'mmaction2>={low},<{high[:3]}'" in setup
    low, high, _ = SUPPORTED['mmengine']
    assert f"'mmengine>={low},<{high[:4]}'" in setup
