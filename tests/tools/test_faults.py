"""Killed runs and determinism (issue 5 items 5 and 6), with the real
``tools/train.py`` in subprocesses on tiny generated videos (CPU).

- run A: uninterrupted, ``--deterministic --seed 0``, 9 iterations;
- run B: the same again: bit-identical losses;
- run C: the same, SIGKILLed *while writing* the iteration-6 checkpoint
  (in the middle of the second pass over the data); then
  ``tools/train.py ... --resume`` in the same work dir: it resumes from the
  iteration-3 checkpoint (the only one kept, ``max_keep_ckpts=1``) and
  ends with the same weights, losses and validation accuracy as A.
- run K: evaluated every 3 iterations with ``save_best``, SIGKILLed while
  writing the iteration-6 best checkpoint; meanwhile a second
  ``tools/train.py`` on its work dir is refused, naming K. After the kill
  the iteration-3 best tests with ``tools/test.py`` (the stale lock info
  does not stop it) and ``--resume`` finishes the run.
- epoch-based runs (3 epochs), SIGKILLed while saving epoch 3 and resumed
  from epoch 2, with ``num_workers=0`` and with persistent workers, and a
  resume without ``--seed``: bit-identical to the uninterrupted run.
"""
import glob
import json
import os
import os.path as osp
import signal
import socket
import subprocess
import sys
import time

import pytest
import torch
from mmengine.config import Config

import a2mm  # noqa: F401  (allow-lists the checkpoint contents)

from tests.helpers.configs import tiny_recognizer_config
from tests.helpers.data import write_labelled_video, write_list
from tests.helpers.tools import tool_env

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


@pytest.fixture(scope='module')
def config_file(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('killed')
    root = str(tmp / 'videos')
    os.makedirs(root)
    entries = []
    for i in range(10):
        write_labelled_video(osp.join(root, f'v{i}.mp4'), 16, seed=i,
                             label=i % 4)
        entries.append((f'v{i}.mp4', i % 4))
    train = write_list(str(tmp / 'train.txt'), entries)
    val = write_list(str(tmp / 'val.txt'), entries[:4])
    cfg = Config(tiny_recognizer_config(None, root, train, val))
    cfg.pop('randomness')  # from --seed/--deterministic
    cfg.pop('work_dir')
    cfg.merge_from_dict({
        'train_cfg.max_iters': 9,
        'train_cfg.val_interval': 9,
        'default_hooks.checkpoint.interval': 3,
        # data augmentation (RandomCrop) runs in a worker, seeded by MMEngine
        'train_dataloader.num_workers': 1,
        'train_dataloader.persistent_workers': False,
    })
    cfg.val_dataloader = cfg.test_dataloader
    cfg.val_cfg = dict(type='ValLoop')
    cfg.val_evaluator = cfg.test_evaluator
    cfg.log_processor = dict(by_epoch=False, window_size=1)
    cfg.visualizer = dict(type='Visualizer',
                          vis_backends=[dict(type='LocalVisBackend')])
    cfg.custom_imports = dict(imports=['a2mm', 'tests.helpers.fault_inject'],
                              allow_failed_imports=False)
    path = str(tmp / 'tiny_faults.py')
    cfg.dump(path)
    return path


def train(config, work_dir, *extra, stall=None, seed='0'):
    # bit-identical resume is a CPU property: on a GPU machine the runs
    # stay on the CPU (CUDA's MaxPool3d/AdaptiveAvgPool3d backward kernels
    # are not deterministic, see a2mm/utils/determinism.py)
    env = tool_env(OMP_NUM_THREADS='1', CUDA_VISIBLE_DEVICES='')
    if stall:
        env['A2MM_STALL_SAVE'] = stall
    return subprocess.Popen(
        [sys.executable, osp.join(REPO, 'tools', 'train.py'), config,
         '--work-dir', work_dir, '--deterministic', *extra,
         *(('--seed', seed) if seed is not None else ())],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True)


def finish(proc):
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode == 0, out[-3000:]
    return out


def scalars(work_dir):
    """(iteration -> loss, last acc/top1) from every run in work_dir."""
    losses, top1 = {}, None
    for path in sorted(glob.glob(osp.join(work_dir, '*', 'vis_data',
                                          'scalars.json'))):
        with open(path) as f:
            for line in f:
                row = json.loads(line)
                if 'loss' in row:
                    losses[row['step']] = row['loss']
                if 'acc/top1' in row:
                    top1 = row['acc/top1']
    return losses, top1


def weights(path):
    return torch.load(path, map_location='cpu',
                      weights_only=True)['state_dict']


@pytest.fixture(scope='module')
def runs(config_file, tmp_path_factory):
    tmp = tmp_path_factory.mktemp('runs')
    work = {name: str(tmp / name) for name in 'ABC'}
    proc_a = train(config_file, work['A'])
    proc_c = train(config_file, work['C'], stall='iter_6')
    marker = osp.join(work['C'], '.iter_6.pth.part.stalled')
    deadline = time.time() + 240
    while not osp.exists(marker):
        assert proc_c.poll() is None, proc_c.communicate()[0][-3000:]
        assert time.time() < deadline, 'the run never reached iteration 6'
        time.sleep(0.05)
    proc_c.send_signal(signal.SIGKILL)  # while it writes iter_6
    proc_c.communicate()
    killed = dict(
        returncode=proc_c.returncode,
        files=sorted(os.listdir(work['C'])),
        last=open(osp.join(work['C'], 'last_checkpoint')).read().strip())
    finish(proc_a)
    proc_b = train(config_file, work['B'])
    resumed = finish(train(config_file, work['C'], '--resume'))
    finish(proc_b)
    return work, killed, resumed


@pytest.mark.slow
def test_kill_while_saving_leaves_last_checkpoint_intact(runs):
    work, killed, _ = runs
    assert killed['returncode'] == -signal.SIGKILL
    assert killed['last'] == osp.join(work['C'], 'iter_3.pth')
    assert 'iter_3.pth' in killed['files']
    assert 'iter_6.pth' not in killed['files']  # only the hidden .part
    assert '.iter_6.pth.part' in killed['files']


@pytest.mark.slow
def test_resumed_run_ends_like_uninterrupted_run(runs):
    work, _, resumed = runs
    assert 'resumed epoch: 0, iter: 3' in resumed
    final_a = weights(osp.join(work['A'], 'iter_9.pth'))
    final_c = weights(osp.join(work['C'], 'iter_9.pth'))
    assert final_a.keys() == final_c.keys()
    for key in final_a:
        assert torch.equal(final_a[key], final_c[key]), key
    losses_a, top1_a = scalars(work['A'])
    losses_c, top1_c = scalars(work['C'])
    assert sorted(losses_a) == list(range(1, 10))
    assert all(losses_c[i] == losses_a[i] for i in range(4, 10))
    assert top1_a is not None and top1_c == top1_a


@pytest.mark.slow
def test_deterministic_runs_give_identical_losses(runs):
    work, _, _ = runs
    losses_a, _ = scalars(work['A'])
    losses_b, _ = scalars(work['B'])
    assert len(losses_a) == 9 and losses_a == losses_b


def wait_for(proc, marker, what):
    deadline = time.time() + 240
    while not osp.exists(marker):
        assert proc.poll() is None, proc.communicate()[0][-3000:]
        assert time.time() < deadline, f'the run never reached {what}'
        time.sleep(0.05)


@pytest.fixture(scope='module')
def killed_during_best(config_file, tmp_path_factory):
    tmp = tmp_path_factory.mktemp('best')
    cfg = Config.fromfile(config_file)
    cfg.merge_from_dict({
        'train_cfg.val_interval': 3,
        'default_hooks.checkpoint.save_best': 'progress/step',
        'default_hooks.checkpoint.rule': 'greater',
    })
    cfg.val_evaluator = dict(type='TrainProgressMetric')
    config = str(tmp / 'tiny_best.py')
    cfg.dump(config)
    work = str(tmp / 'K')
    first = train(config, work, stall='best_progress_step_iter_6')
    wait_for(first, osp.join(work, '.best_progress_step_iter_6.pth.part'
                             '.stalled'), 'the iteration-6 best save')
    second = train(config, work, '--resume')
    refused = second.communicate(timeout=300)[0]
    first.send_signal(signal.SIGKILL)  # while it writes the new best
    first.communicate()
    files = sorted(os.listdir(work))
    tested = subprocess.run(
        [sys.executable, osp.join(REPO, 'tools', 'test.py'), config,
         osp.join(work, 'best_progress_step_iter_3.pth'), '--work-dir',
         work], cwd=REPO, env=tool_env(OMP_NUM_THREADS='1'),
        capture_output=True, text=True, timeout=300)
    resumed = finish(train(config, work, '--resume'))
    return dict(work=work, pid=first.pid, refused=refused,
                refused_rc=second.returncode, killed_rc=first.returncode,
                files=files, tested=tested, resumed=resumed)


@pytest.mark.slow
def test_second_run_on_busy_work_dir_is_refused(killed_during_best):
    run = killed_during_best
    assert run['refused_rc'] != 0
    assert 'WorkDirBusyError' in run['refused']
    assert (f'pid {run["pid"]} on host {socket.gethostname()}'
            in run['refused'])
    assert 'train.py' in run['refused']  # the holder's command line


@pytest.mark.slow
def test_kill_during_best_save_leaves_a_loadable_best(killed_during_best):
    run = killed_during_best
    assert run['killed_rc'] == -signal.SIGKILL
    assert 'best_progress_step_iter_3.pth' in run['files']
    assert 'best_progress_step_iter_6.pth' not in run['files']
    assert '.best_progress_step_iter_6.pth.part' in run['files']
    tested = run['tested']
    assert tested.returncode == 0, tested.stdout[-3000:] + tested.stderr
    assert 'acc/top1' in tested.stdout + tested.stderr


@pytest.mark.slow
def test_resume_after_kill_is_not_blocked(killed_during_best):
    run = killed_during_best
    assert 'resumed epoch: 0, iter: 6' in run['resumed']
    bests = [n for n in os.listdir(run['work']) if n.startswith('best_')]
    assert bests == ['best_progress_step_iter_9.pth']  # iter_3's removed
    assert not [n for n in os.listdir(run['work']) if n.endswith('.part')]
    best = torch.load(osp.join(run['work'], bests[0]), map_location='cpu',
                      weights_only=True)
    assert best['meta']['iter'] == 9 and best['state_dict']
    with open(osp.join(run['work'], 'train.lock')) as f:
        assert f.read() == ''  # the finished run emptied it


def test_test_tool_skip_bad_videos_flag(config_file):
    """``tools/test.py --skip-bad-videos`` sets the dataset flag and the
    hook that keeps skipped videos out of the metrics."""
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        'a2mm_test_tool', osp.join(REPO, 'tools', 'test.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    args = tool.parse_args([config_file, 'x.pth', '--skip-bad-videos'])
    cfg = tool.merge_args(Config.fromfile(config_file), args)
    assert cfg.test_dataloader.dataset.skip_bad_videos is True
    assert [h['type'] for h in cfg.custom_hooks].count('BadVideoHook') == 1


# ----------------------------------------------------- exact epoch resume
# Issue 18 item 9: an epoch-based run SIGKILLed after epoch 2 and resumed
# must end bit-identical to an uninterrupted one whatever the workers:
# in the main process (num_workers=0: the data pipeline draws from the
# main-process generators) and in persistent workers (their generators run
# on across epochs). ResumeSeedHook seeds every sample from (seed, rank,
# epoch, position) in whichever process loads it.
WORKER_SETTINGS = {
    'main_process': ('train_dataloader.num_workers=0',
                     'train_dataloader.persistent_workers=False'),
    'persistent_workers': ('train_dataloader.num_workers=2',
                           'train_dataloader.persistent_workers=True'),
}


@pytest.fixture(scope='module')
def epoch_config(config_file, tmp_path_factory):
    """The tiny config as an epoch-based run: 3 epochs of 5 iterations, a
    checkpoint and a validation after every epoch."""
    cfg = Config.fromfile(config_file)
    cfg.train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=3,
                         val_interval=1)
    cfg.merge_from_dict({'default_hooks.checkpoint.by_epoch': True,
                         'default_hooks.checkpoint.interval': 1})
    cfg.log_processor = dict(by_epoch=True, window_size=1)
    path = str(tmp_path_factory.mktemp('epochs') / 'tiny_epochs.py')
    cfg.dump(path)
    return path


def max_weight_diff(first: dict, second: dict) -> float:
    assert first.keys() == second.keys()
    return max(float((first[k].double() - second[k].double()).abs().max())
               if first[k].numel() else 0.0 for k in first)


@pytest.mark.slow
@pytest.mark.parametrize('workers, resume_seed', [
    *((name, '0') for name in sorted(WORKER_SETTINGS)),
    # --resume without --seed: MMEngine draws a seed and builds the sampler
    # with it before resume restores the killed run's seed (0)
    ('main_process', None)])
def test_epoch_resume_is_exact_for_every_worker_setting(
        epoch_config, tmp_path, workers, resume_seed):
    options = ('--cfg-options', *WORKER_SETTINGS[workers])
    work_a, work_c = str(tmp_path / 'A'), str(tmp_path / 'C')
    proc_a = train(epoch_config, work_a, *options)
    proc_c = train(epoch_config, work_c, *options, stall='epoch_3')
    wait_for(proc_c, osp.join(work_c, '.epoch_3.pth.part.stalled'),
             'the epoch-3 checkpoint')
    proc_c.send_signal(signal.SIGKILL)  # after epoch 2, saving epoch 3
    proc_c.communicate()
    finish(proc_a)
    resumed = finish(train(epoch_config, work_c, *options, '--resume',
                           seed=resume_seed))
    assert 'resumed epoch: 2, iter: 10' in resumed
    diff = max_weight_diff(weights(osp.join(work_a, 'epoch_3.pth')),
                           weights(osp.join(work_c, 'epoch_3.pth')))
    print(f'{workers}: max weight difference {diff}')
    assert diff == 0.0, f'{workers}: max weight difference {diff}'
    losses_a, _ = scalars(work_a)
    losses_c, _ = scalars(work_c)
    assert all(losses_c[i] == losses_a[i] for i in range(11, 16))
