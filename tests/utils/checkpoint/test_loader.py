"""Checkpoints written by MMEngine's train loop load under
``torch.load(weights_only=True)`` once a2mm is imported, through a2mm's
loader (MMEngine's local scheme); hostile pickles are refused without
running anything. The whole hostile corpus through every entry point is
tests/tools/test_hostile_checkpoints.py."""
import os
import os.path as osp
import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch
import torch.nn as nn
from mmengine.evaluator import BaseMetric
from mmengine.logging import HistoryBuffer
from mmengine.model import BaseModel
from mmengine.runner import Runner, load_checkpoint

import a2mm  # noqa: F401  (installs the allow-list)
from a2mm.utils.checkpoint.loader import (SAFE_GLOBALS, CheckpointLoadError,
                                          load_checkpoint_file)


class ToyModel(BaseModel):

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(2, 1)

    def forward(self, inputs, labels, mode='tensor'):
        # default_collate stacked the batch: inputs (B, 2), labels (B, 1)
        outputs = self.linear(inputs)
        if mode == 'loss':
            return dict(loss=((outputs - labels)**2).mean())
        return [dict(err=float(((outputs - labels)**2).mean()))]


class ToyMetric(BaseMetric):

    def process(self, data_batch, data_samples):
        self.results += data_samples

    def compute_metrics(self, results):
        return dict(acc=1 - sum(r['err'] for r in results) / len(results))


def _runner(work_dir, resume=False, max_epochs=2):
    data = [dict(inputs=torch.randn(2), labels=torch.randn(1))
            for _ in range(4)]
    loader = dict(dataset=data, sampler=dict(type='DefaultSampler',
                  shuffle=False), batch_size=2,
                  collate_fn=dict(type='default_collate'))
    return Runner(
        model=ToyModel(), work_dir=work_dir, train_dataloader=loader,
        val_dataloader=loader, val_evaluator=dict(type=ToyMetric),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
        train_cfg=dict(by_epoch=True, max_epochs=max_epochs),
        val_cfg=dict(), resume=resume,
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=1,
                                           save_best='acc', rule='greater')),
        # unique per test: MMEngine reuses a logger of the same name, and
        # names it '<experiment_name>_<timestamp>' (one-second resolution)
        experiment_name=f'toy_{os.path.basename(work_dir)}_{resume}_'
                        f'{max_epochs}')


def test_train_loop_checkpoint_loads_weights_only(tmp_path):
    _runner(str(tmp_path)).train()
    path = str(tmp_path / 'epoch_2.pth')
    state = torch.load(path, weights_only=True)
    # the parts that need the allow-list are there and usable
    buffer = state['message_hub']['log_scalars']['train/loss']
    assert isinstance(buffer, HistoryBuffer)
    assert buffer.mean() == pytest.approx(buffer.data[0].mean())
    assert float(state['message_hub']['runtime_info']['best_score']) <= 1
    # and MMEngine's own loading path (test.py, --resume) works
    resumed = _runner(str(tmp_path), resume=True, max_epochs=3)
    resumed.train()
    assert resumed.epoch == 3
    assert osp.isfile(tmp_path / 'epoch_3.pth')


class _Payload:
    """Unpickling this calls os.system: it must never happen."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f'touch {self.marker}', )


class _GetattrEscape:
    """Unpickling this asks builtins.getattr for something other than a
    HistoryBuffer statistics method."""

    def __reduce__(self):
        return getattr, (HistoryBuffer, '__init__')


def test_reduce_payload_is_refused_and_not_run(tmp_path):
    marker = tmp_path / 'pwned'
    path = str(tmp_path / 'evil.pth')
    torch.save({'state_dict': {'w': torch.zeros(1)},
                'meta': _Payload(str(marker))}, path)
    with pytest.raises(pickle.UnpicklingError, match='system'):
        torch.load(path, weights_only=True)
    with pytest.raises(CheckpointLoadError, match='evil.pth.*system'):
        load_checkpoint(nn.Linear(1, 1), path)  # MMEngine's loader
    assert not marker.exists()


def test_getattr_is_limited_to_history_buffer_statistics(tmp_path):
    path = str(tmp_path / 'getattr.pth')
    torch.save({'x': _GetattrEscape()}, path)
    with pytest.raises(pickle.UnpicklingError, match='refuses getattr'):
        torch.load(path, weights_only=True)
    allowed = torch.serialization.get_safe_globals()
    assert getattr not in allowed  # only our stand-in, under its name
    assert all(not (isinstance(g, tuple) and g[0] is getattr)
               for g in SAFE_GLOBALS)


def test_train_checkpoint_numpy_comes_back_plain(tmp_path):
    """The loader turns the checked stand-ins back into plain numpy, so a
    resumed run re-saves checkpoints that plain torch can read."""
    _runner(str(tmp_path), max_epochs=1).train()
    state = load_checkpoint_file(str(tmp_path / 'epoch_1.pth'))
    buffer = state['message_hub']['log_scalars']['train/loss']
    assert type(buffer._log_history) is np.ndarray
    assert buffer._log_history.dtype == np.float64
    assert type(state['message_hub']['runtime_info']['best_score']) in (
        float, np.float64)
    # the stored config text was checked, and reduced to what resume reads
    assert 'config' not in state['meta']


@pytest.mark.parametrize('value', [
    np.arange(6, dtype=np.int16).reshape(2, 3),
    np.asfortranarray(np.arange(6.0).reshape(2, 3)),
    np.zeros((0, 4), np.float32),
    np.array([1 + 2j], np.complex64),
    np.arange(3, dtype='>u4'),
    np.array([True, False]),
    np.float16(0.5),
    np.int64(-3),
])
def test_numeric_numpy_round_trips(tmp_path, value):
    path = str(tmp_path / 'np.pth')
    torch.save({'x': value, 'y': [value, value]}, path)
    loaded = load_checkpoint_file(path)
    # what numpy's own unpickler makes of it (it stores big-endian arrays
    # in native order)
    expected = pickle.loads(pickle.dumps(value, protocol=2))
    for got in (loaded['x'], loaded['y'][0]):
        assert type(got) is type(value)
        assert got.dtype == expected.dtype
        assert np.array_equal(got, value)
        if isinstance(got, np.ndarray):
            assert got.flags.f_contiguous == expected.flags.f_contiguous
    assert loaded['y'][0] is loaded['y'][1]  # shared stays shared


def test_object_arrays_are_refused(tmp_path):
    path = str(tmp_path / 'obj.pth')
    torch.save({'x': np.array([None, 'a'], dtype=object)}, path)
    with pytest.raises(CheckpointLoadError,
                       match="obj.pth.*dtype 'O8' is not one of"):
        load_checkpoint_file(path)


def test_crafted_dtype_is_refused_and_the_interpreter_survives(tmp_path):
    """A float64 dtype given an object field over 8 bytes of the file: the
    old allow-list (numpy dtype classes) let its BUILD run, and reading the
    field dereferenced 0x4141414141414141 (SIGSEGV). Run in a subprocess so
    that a crash is a failure here, not the end of pytest."""
    from tests.helpers.hostile_checkpoints import write_crafted_dtype
    path = write_crafted_dtype(str(tmp_path / 'dtype.pth'))
    code = ('import a2mm\n'
            'from a2mm.utils.checkpoint.loader import load_checkpoint_file\n'
            f'x = load_checkpoint_file({path!r})\n'
            "print(x['x']['a'])\n")
    proc = subprocess.run([sys.executable, '-c', code], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 1, (proc.returncode, proc.stderr[-2000:])
    assert 'CheckpointLoadError' in proc.stderr
    assert f'refused checkpoint {path}' in proc.stderr
    assert 'numpy data refused' in proc.stderr


def test_crafted_dtype_state_is_refused(tmp_path):
    """Only the state numpy writes for a numeric dtype passes BUILD."""
    from tests.helpers.hostile_checkpoints import write_crafted_dtype
    path = write_crafted_dtype(str(tmp_path / 'flags.pth'), flags_only=True)
    with pytest.raises(CheckpointLoadError, match='only the plain state'):
        load_checkpoint_file(path)


@pytest.mark.parametrize('text,why', [
    ("_ = __import__('os').system('true')",
     'calls "__import__(\'os\').system"'),
    ('import os', 'Import statement'),
    ("x = open('/etc/passwd').read()", 'calls "open(\'/etc/passwd\').read"'),
    ('x = dict(**y)', "calls 'dict'"),
    ('x = y', "Name 'y' is not plain"),
    ("_base_ = ['/tmp/evil.py']", "assigns '_base_'"),
    ('x = [y for y in range(3)]', 'ListComp'),
    ('x = (', 'not Python'),
])
def test_meta_config_code_is_refused(tmp_path, text, why):
    path = str(tmp_path / 'meta.pth')
    torch.save({'state_dict': {}, 'meta': {'config': text}}, path)
    with pytest.raises(CheckpointLoadError, match='meta.pth') as info:
        load_checkpoint_file(path)
    assert why in str(info.value)
    assert "['meta']['config'] is not plain config data" in str(info.value)


def test_plain_meta_config_keeps_only_gpu_ids(tmp_path):
    path = str(tmp_path / 'plain.pth')
    text = ("model = dict(type='Recognizer3D', x=[1, -2.5, None], "
            "y={'a': (True, )})\ngpu_ids = [3]\ngpu_ids = [0, 1]\n")
    torch.save({'meta': {'config': text, 'cfg': text}}, path)
    meta = load_checkpoint_file(path)['meta']
    assert meta['config'] == 'gpu_ids = [0, 1]'
    assert meta['cfg'] == text  # checked, not executed, kept


@pytest.mark.parametrize('kind', ['directory', 'device', 'empty', 'list'])
def test_what_is_not_a_checkpoint_file_is_named(tmp_path, kind):
    path = str(tmp_path / kind)
    if kind == 'directory':
        os.mkdir(path)
        why = 'is a directory'
    elif kind == 'device':
        os.symlink('/dev/zero', path)
        why = r'\(-> /dev/zero\) is not a regular file'
    elif kind == 'empty':
        open(path, 'wb').close()
        why = r'is empty \(0 bytes\)'
    else:
        torch.save([torch.zeros(1)], path)
        why = 'holds a list, not a checkpoint'
    with pytest.raises(CheckpointLoadError, match=f'{path} {why}'):
        load_checkpoint_file(path)
    with pytest.raises(FileNotFoundError, match='not found: .*nothere'):
        load_checkpoint_file(str(tmp_path / 'nothere'))


def test_pretty_text_of_a_real_config_is_plain_data():
    """What MMEngine stores as meta['cfg'] passes the check: a2mm's own
    checkpoints are not refused."""
    from mmengine.config import Config

    from a2mm.utils.checkpoint.config_text import (ConfigTextError,
                                                   check_config_text)
    from tests.helpers.configs import CONFIG
    text = Config.fromfile(CONFIG).pretty_text
    names = {t.id for stmt in check_config_text(text).body
             for t in stmt.targets}
    assert {'model', 'train_dataloader'} <= names
    # the same text with one line of code appended is refused
    with pytest.raises(ConfigTextError, match='line'):
        check_config_text(text + "\nx = __import__('os').getcwd()\n")


def test_config_types_of_a_real_config_are_registered():
    """The stored config of an a2mm checkpoint names only registered types
    and custom_imports=['a2mm'] (imported): it still loads."""
    from mmengine.config import Config

    from a2mm.utils.checkpoint.config_text import check_config_text
    from a2mm.utils.checkpoint.config_types import check_config_types
    from tests.helpers.configs import CONFIG
    text = Config.fromfile(CONFIG).pretty_text
    assert 'custom_imports' in text
    check_config_types(check_config_text(text))


@pytest.mark.parametrize('text,why', [
    ("model = dict(type='subprocess.run', args='touch x', shell=True)",
     "type='subprocess.run' is not a registered name"),
    ("model = dict(type='Recognizer3D', backbone=[dict(a=(dict("
     "type='os.system'), ))])", "type='os.system'"),
    ("model = {'type': 'builtins.eval'}", "type='builtins.eval'"),
    ("model = dict(type='antigravity')", "type='antigravity'"),
    ("model = dict(type='mmaction.os.system')", "'mmaction.os.system'"),
    ("optim_wrapper = dict(constructor='os.system')", "constructor="),
    ("test_dataloader = dict(collate_fn='os.system')", 'collate_fn='),
    ("custom_imports = dict(imports=['antigravity'])",
     "custom_imports names ['antigravity']"),
    ("x = dict(y=[dict(custom_imports=['this'])])",
     "custom_imports names ['this']"),
    ("default_scope = 'antigravity'", "default_scope='antigravity'"),
    ("model = dict(type='Recognizer3D', _scope_='evil')", "_scope_='evil'"),
])
def test_stored_config_may_name_only_registered_types(tmp_path, text, why):
    """MMEngine resolves an unregistered type name by importing it, and
    MMAction2's inferencer builds the model of the stored config."""
    path = str(tmp_path / 'cfg.pth')
    for where in ({'meta': {'cfg': text}},
                  {'message_hub': {'runtime_info': {'cfg': text}}}):
        torch.save(dict(state_dict={'w': torch.zeros(1)}, **where), path)
        with pytest.raises(CheckpointLoadError,
                           match='cfg.pth.*names what MMEngine would '
                           'import') as info:
            load_checkpoint_file(path)
        assert why in str(info.value)


def test_inferencer_does_not_build_a_stored_dotted_type(tmp_path):
    """MMAction2's ActionRecogInferencer(model=None, weights=...) builds
    the checkpoint's stored config (mmengine BaseInferencer._init_model):
    with a2mm imported the checkpoint is refused and nothing runs."""
    from mmaction.apis.inferencers import ActionRecogInferencer
    marker = tmp_path / 'ran'
    text = (f"model = dict(type='subprocess.run', args='touch {marker}', "
            'shell=True)\n')
    for where in ({'meta': {'cfg': text}},
                  {'message_hub': {'runtime_info': {'cfg': text}}}):
        path = str(tmp_path / 'evil.pth')
        torch.save(dict(state_dict={'w': torch.zeros(1)}, **where), path)
        with pytest.raises(CheckpointLoadError, match='evil.pth'):
            ActionRecogInferencer(model=None, weights=path)
        assert not marker.exists()


@pytest.mark.parametrize('text', [
    'x = ' + '-' * 200_000 + '1',
    'x = ' + 'not ' * 200_000 + '1',
    'x = a' + '.b' * 200_000,
    'x = ' + '+'.join(['1'] * 200_000),
    'x = [' + ','.join(['1'] * 600_000) + ']',
])
def test_deeply_nested_config_text_is_a_named_error(tmp_path, text):
    """CPython's parser raises RecursionError or a bare MemoryError for
    these; the loader names the checkpoint and the key."""
    path = str(tmp_path / 'deep.pth')
    torch.save({'message_hub': {'runtime_info': {'cfg': text}}}, path)
    with pytest.raises(CheckpointLoadError,
                       match=r"deep.pth: its \['message_hub'\]\['runtime_info"
                       r"'\]\['cfg'\] is not plain config data \((nested too "
                       r'deeply|.*characters, more than)'):
        load_checkpoint_file(path)


class _Deadline(Exception):
    """A caller's own exception (e.g. raised by its timeout handler)."""


@pytest.mark.parametrize('error', [_Deadline, TimeoutError,
                                   KeyboardInterrupt])
def test_a_callers_exception_is_not_turned_into_a_load_error(
        tmp_path, monkeypatch, error):
    path = str(tmp_path / 'ok.pth')
    torch.save({'state_dict': {'w': torch.zeros(1)}}, path)

    def interrupted(*args, **kwargs):
        raise error('from the caller')

    monkeypatch.setattr(torch, 'load', interrupted)
    with pytest.raises(error, match='from the caller'):
        load_checkpoint_file(path)


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path):
    path = str(tmp_path / 'pipe.pth')
    os.mkfifo(path)
    with pytest.raises(CheckpointLoadError,
                       match='pipe.pth is not a regular file'):
        load_checkpoint_file(path)


_SWAP_RACE = '''
import os, sys, threading, time, torch
import a2mm
from a2mm.utils.checkpoint import CheckpointLoadError, load_checkpoint_file
root = sys.argv[1]
good, fifo, link = (os.path.join(root, n) for n in ('good.pth', 'fifo',
                                                     'model.pth'))
torch.save({'state_dict': {'w': torch.zeros(3)}}, good)
os.mkfifo(fifo)
os.symlink(good, link)
stop = threading.Event()

def flip():
    for i in range(10 ** 9):
        if stop.is_set():
            return
        os.symlink(fifo if i % 2 else good, link + '.tmp')
        os.replace(link + '.tmp', link)

threading.Thread(target=flip, daemon=True).start()
time.sleep(0.1)
outcomes = {'loaded': 0, 'refused': 0}
for _ in range(300):
    try:
        assert load_checkpoint_file(link)['state_dict']['w'].shape == (3, )
        outcomes['loaded'] += 1
    except CheckpointLoadError as e:
        assert 'model.pth (-> ' in str(e) and 'not a regular file' in str(e)
        outcomes['refused'] += 1
stop.set()
print(outcomes)
'''


def test_a_link_flipped_to_a_fifo_during_loads_never_hangs(tmp_path):
    """The link flips between a checkpoint and a FIFO while it is loaded
    300 times: each load gets the checkpoint or a refusal naming the
    FIFO; none waits for a writer (a stat-then-open loader hung in 10 of
    37 tries)."""
    proc = subprocess.run([sys.executable, '-c', _SWAP_RACE, str(tmp_path)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    outcomes = eval(proc.stdout.strip().splitlines()[-1])
    assert outcomes['loaded'] + outcomes['refused'] == 300


@pytest.mark.parametrize('kind,shown', [
    ('numpy', 'w: numpy.ndarray'),
    ('meta', 'w: a tensor on the meta device (no data)'),
    ('string', 'w: str'),
    ('int_key', '7: a key of type int, not a string'),
])
def test_a_state_dict_of_values_that_are_not_weights_is_refused(
        tmp_path, kind, shown):
    """Every loader after this one (MMEngine's load_state_dict, MMAction2's
    inferencer, the runner) would skip them with a warning."""
    from a2mm.utils.checkpoint import CheckpointMismatchError
    state = {'w': torch.ones(2), 'b': torch.zeros(1)}
    if kind == 'numpy':
        state['w'] = state['w'].numpy()
    elif kind == 'meta':
        state['w'] = state['w'].to('meta')
    elif kind == 'string':
        state['w'] = 'weights'
    else:
        state[7] = torch.zeros(1)
    path = str(tmp_path / 'bad.pth')
    torch.save({'state_dict': state, 'meta': {}}, path)
    with pytest.raises(CheckpointMismatchError,
                       match='bad.pth holds values that are not '
                       'weights') as info:
        load_checkpoint_file(path)
    assert shown in str(info.value)
    # and through MMEngine's load_checkpoint (init_recognizer's path)
    with pytest.raises(CheckpointMismatchError, match='bad.pth'):
        load_checkpoint(nn.Linear(2, 1), path)
