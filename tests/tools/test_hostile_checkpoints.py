"""The hostile corpus (tests/helpers/hostile_checkpoints.py) through every
entry point that loads a checkpoint: nothing runs, nothing crashes or hangs,
and each file gets an error naming it and why.

One driver subprocess (tests/helpers/hostile_driver.py) calls all ten entry
points on all corpus files in-process (the Runner-based ones: the first
file through the tool's ``main``, the others through the Runner's
``load_or_resume``), so a crash or a hang fails the test instead of killing
pytest; two command-line runs prove that the scripts exit with status 1 (an
error, not a signal) and say why.
"""
import json
import os.path as osp

import pytest

from tests.helpers.configs import write_tiny_config
from tests.helpers.data import (NUM_CLASSES, make_label_map,
                                write_gradient_video)
from tests.helpers.hostile_checkpoints import KINDS, build_corpus
from tests.helpers.tools import run_tool

ENTRY_POINTS = ('tools/test.py', 'tools/train.py --resume',
                'load_from (train)', 'tools/demo.py', 'export_onnx.py',
                'visualize_attention.py', 'a2mm.apis.init_model',
                'backbone pretrained=', 'backbone pretrained2d',
                'mmaction ActionRecogInferencer')


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    """The tiny config with its data, a video, a label map and the corpus
    wrapped around that config's real weights."""
    import a2mm  # noqa: F401
    from a2mm.apis import init_model
    root = tmp_path_factory.mktemp('hostile')
    config = write_tiny_config(root)
    marker = str(root / 'PAYLOAD_RAN')
    corpus_dir = root / 'corpus'
    corpus_dir.mkdir()
    weights = init_model(config).state_dict()
    spec = dict(
        config=config, work_dir=str(root / 'work'), marker=marker,
        video=write_gradient_video(str(root / 'clip.mp4')),
        labels=str(root / 'labels.txt'),
        corpus=build_corpus(str(corpus_dir), marker, weights))
    make_label_map(spec['labels'], NUM_CLASSES)
    return spec


def test_corpus_has_the_kinds_the_issue_lists():
    assert len(KINDS) >= 10
    for word in ('reduce_zip', 'reduce_legacy', 'reduce_raw_pickle',
                 'swapped_data_pkl', 'getattr_escape', 'eval_global',
                 'meta_config_code', 'crafted_dtype', 'truncated_zip',
                 'dev_zero_link', 'dev_urandom_link', 'directory',
                 'sparse_64g', 'empty', 'deflated_bomb', 'sparse_legacy',
                 'cfg_dotted_type', 'cfg_custom_imports', 'cfg_deep_nesting',
                 'numpy_weights', 'meta_tensor_weight', 'string_weight',
                 'integer_key'):
        assert word in KINDS


@pytest.mark.slow
def test_every_entry_point_refuses_every_hostile_file(setup, tmp_path):
    spec_file, out_file = tmp_path / 'spec.json', tmp_path / 'out.json'
    spec_file.write_text(json.dumps(setup))
    proc = run_tool(['python', '-m', 'tests.helpers.hostile_driver',
                     str(spec_file), str(out_file)], timeout=600,
                    expect=None)
    last = [line for line in proc.stdout.splitlines()
            if line.startswith('--> ')][-1:]
    assert proc.returncode == 0, (
        f'the driver died with {proc.returncode} at {last}:\n'
        f'{proc.stdout[-4000:]}')
    results = json.loads(out_file.read_text())
    assert tuple(results) == ENTRY_POINTS
    failures = []
    for entry, outcomes in results.items():
        for kind, got in outcomes.items():
            path = setup['corpus'][kind]
            why = KINDS[kind]
            if got['marker']:
                failures.append(f'{entry} / {kind}: THE PAYLOAD RAN')
            elif got['error'] in (None, 'TimeoutError'):
                failures.append(
                    f'{entry} / {kind}: {got["error"] or "loaded"}')
            elif path not in got['message'] or why not in got['message']:
                failures.append(f'{entry} / {kind}: {got["error"]}: '
                                f'{got["message"][:300]}\n{got["trace"]}')
    assert not failures, '\n'.join(failures)
    # /dev/zero, /dev/urandom and 64 GiB of holes were never read
    peak = max(got['max_rss_mb'] for outcomes in results.values()
               for got in outcomes.values())
    assert peak < 4096, f'peak RSS {peak} MiB'
    assert not osp.exists(setup['marker'])


@pytest.mark.slow
@pytest.mark.parametrize('tool,kind', [
    ('tools/train.py --resume', 'meta_config_code'),
    ('tools/demo.py', 'crafted_dtype'),
])
def test_command_line_exits_with_an_error(setup, tool, kind):
    path = setup['corpus'][kind]
    if tool == 'tools/demo.py':
        args = ['tools/demo.py', setup['config'], path, setup['video'],
                setup['labels']]
    else:
        args = ['tools/train.py', setup['config'], '--work-dir',
                setup['work_dir'], '--resume', path]
    proc = run_tool(['python'] + args, expect=None)
    assert proc.returncode == 1, (proc.returncode, proc.stdout[-3000:])
    assert 'CheckpointLoadError' in proc.stdout
    assert path in proc.stdout and KINDS[kind] in proc.stdout
    assert not osp.exists(setup['marker'])
