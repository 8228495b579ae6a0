"""The fault-tolerance hooks in a real MMEngine runner on tiny real videos:
bad videos in training and testing, a failed checkpoint write, a
checkpoint that does not fit the model."""
import glob
import os
import os.path as osp
import re

import pytest
import torch
from mmengine.config import Config
from mmengine.fileio import LocalBackend
from mmengine.runner import Runner

import a2mm  # noqa: F401
from a2mm.datasets import BadVideoError
from a2mm.utils.checkpoint import CheckpointMismatchError
from tests.helpers.configs import tiny_recognizer_config
from tests.helpers.data import FAULTS, make_fault_videos, write_list


@pytest.fixture(scope='module')
def videos(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('videos'))
    return root, make_fault_videos(root, good=4)


def runner_for(tmp_path, videos, train, test, **overrides):
    root, files = videos
    train_list = write_list(str(tmp_path / 'train.txt'),
                            [(files[n], i % 4) for i, n in enumerate(train)])
    test_list = write_list(str(tmp_path / 'test.txt'),
                           [(files[n], i % 4) for i, n in enumerate(test)])
    cfg = Config(tiny_recognizer_config(str(tmp_path / 'work'), root,
                                        train_list, test_list))
    cfg.merge_from_dict(overrides)
    # MMEngine names the logger '<experiment_name>_<timestamp>' and hands an
    # existing logger of that name back, so two runners built in the same
    # second in different tests must not share a name (the second one would
    # log into the first one's file)
    cfg.experiment_name = f'{tmp_path.name}_run{len(os.listdir(tmp_path))}'
    return Runner.from_cfg(cfg)


def log_text(runner):
    with open(osp.join(runner.log_dir, f'{runner.timestamp}.log')) as f:
        return f.read()


GOOD = ['good0', 'good1', 'good2', 'good3']


def test_training_replaces_and_counts_bad_videos(tmp_path, videos):
    _, files = videos
    bad = ['empty', 'text', 'missing']
    runner = runner_for(tmp_path, videos, GOOD + bad, GOOD,
                        **{'train_dataloader.dataset.max_bad_retries': 50})
    runner.train()  # 6 iterations of batch 2 over 7 samples: goes on
    log = log_text(runner)
    for name in bad:
        lines = [line for line in log.splitlines()
                 if 'bad video, replaced' in line and files[name] in line]
        assert len(lines) == 1 and FAULTS[name] in lines[0], name
    assert 'data pass 1: ' in log and 'training sample(s) replaced' in log


def test_testing_raises_by_default_and_skips_when_asked(tmp_path, videos):
    _, files = videos
    runner = runner_for(tmp_path, videos, GOOD, GOOD + ['truncated_mp4'])
    with pytest.raises(BadVideoError, match=files['truncated_mp4']):
        runner.test()
    runner = runner_for(
        tmp_path, videos, GOOD, ['good0', 'truncated_avi', 'good1', 'tiny'],
        **{'test_dataloader.dataset.skip_bad_videos': True})
    metrics = runner.test()
    assert metrics['acc/skipped_videos'] == 2
    assert metrics['acc/evaluated_videos'] == 2
    log = log_text(runner)
    assert 'its metrics (AccMetric) are wrapped in SkippedVideosMetric' in log
    assert '2 of 4 videos could not be read and are NOT counted' in log
    assert files['truncated_avi'] in log and files['tiny'] in log


def test_skipping_copes_with_any_number_of_bad_videos(tmp_path, videos):
    """30 missing files in a row and a missing class folder (a sorted
    Kinetics list): every one is skipped and counted, none ends the test
    (it used to give up after max_bad_retries + 1 = 11 in a row)."""
    root, files = videos
    entries = [(f'gone {i:02d}.mp4', 0) for i in range(30)]
    entries += [(files['good0'], 0), (files['good1'], 1)]
    entries += [(f'missing_class/v{i}.mp4', 2) for i in range(15)]
    entries += [(files['good2'], 2), (files['truncated_mp4'], 3)]
    test_list = write_list(str(tmp_path / 'skip.txt'), entries)
    runner = runner_for(tmp_path, videos, GOOD, GOOD, **{
        'test_dataloader.dataset.ann_file': test_list,
        'test_dataloader.dataset.skip_bad_videos': True,
        'test_dataloader.num_workers': 1,
    })
    metrics = runner.test()
    assert metrics['acc/skipped_videos'] == 46
    assert metrics['acc/evaluated_videos'] == 3
    log = log_text(runner)
    assert '46 of 49 videos could not be read and are NOT counted' in log
    assert 'missing_class/v14.mp4: file does not exist' in log


def test_short_videos_are_trained_and_tested_and_counted(tmp_path, videos):
    _, files = videos
    runner = runner_for(tmp_path, videos, GOOD + ['short', 'one_frame'],
                        GOOD + ['short', 'one_frame'],
                        **{'train_cfg.max_iters': 3})
    runner.train()  # 3 iterations of batch 2 = one pass over 6 samples
    log = log_text(runner)
    assert 'data pass 1: 0 training sample(s) replaced' in log
    assert re.search(r'data pass 1: 2 training sample\(s\) shorter than one '
                     r'clip were used with their frames looped', log), log
    assert '2 distinct short video(s) so far' in log
    metrics = runner.test()  # raises if a short video were bad
    assert 0 <= metrics['acc/top1'] <= 1
    log = log_text(runner)
    line = next(ln for ln in log.splitlines()
                if 'test: 2 of 6 video(s) are shorter than one clip' in ln)
    assert f'{files["one_frame"]} (1 frames)' in line
    assert f'{files["short"]} (5 frames)' in line


def die_while_writing(monkeypatch, marker: str, message: str):
    """Make MMEngine's file writes die half-way (as under SIGKILL) for the
    file whose path contains ``marker``: half the bytes are written, then
    ``KeyboardInterrupt(message)``. Returns the real ``put``."""
    real_put = LocalBackend.put

    def dying_put(self, obj, filepath):
        if marker in str(filepath):
            with open(filepath, 'wb') as f:
                f.write(obj[:len(obj) // 2])
            raise KeyboardInterrupt(message)
        return real_put(self, obj, filepath)

    monkeypatch.setattr(LocalBackend, 'put', dying_put)
    return real_put


def test_failed_checkpoint_write_keeps_the_last_one(tmp_path, videos,
                                                    monkeypatch):
    """A write that dies half-way (as under SIGKILL) at iteration 2."""
    real_put = die_while_writing(monkeypatch, 'iter_2', 'killed while saving')
    results = {}
    for hook in ('CheckpointHook', 'AtomicCheckpointHook'):
        work = tmp_path / hook
        work.mkdir()
        runner = runner_for(work, videos, GOOD, GOOD, **{
            'default_hooks.checkpoint.type': hook,
            'default_hooks.checkpoint.interval': 1,
            'work_dir': str(work / 'w')
        })
        with pytest.raises(KeyboardInterrupt):
            runner.train()
        with open(work / 'w' / 'last_checkpoint') as f:
            last = f.read().strip()
        results[hook] = (last, osp.exists(last),
                         sorted(glob.glob(str(work / 'w' / '*.pth'))))
    # upstream: iter_1 deleted first (max_keep_ckpts=1), truncated iter_2
    last, exists, files = results['CheckpointHook']
    assert last.endswith('iter_1.pth') and not exists
    assert [osp.basename(f) for f in files] == ['iter_2.pth']
    # ours: iter_1 is still there, named by last_checkpoint
    last, exists, files = results['AtomicCheckpointHook']
    assert last.endswith('iter_1.pth') and exists
    assert [osp.basename(f) for f in files] == ['iter_1.pth']
    monkeypatch.setattr(LocalBackend, 'put', real_put)
    work = tmp_path / 'AtomicCheckpointHook'
    runner = runner_for(work, videos, GOOD, GOOD, resume=True,
                        work_dir=str(work / 'w'),
                        **{'train_cfg.max_iters': 2})
    runner.train()  # resumes from iter_1, removes the stale part file
    assert runner.iter == 2
    assert not glob.glob(str(work / 'w' / '.*.part'))
    with open(work / 'w' / 'last_checkpoint') as f:
        assert f.read().strip().endswith('iter_2.pth')


def test_mismatched_checkpoint_is_reported_not_loaded(tmp_path, videos):
    runner = runner_for(tmp_path, videos, GOOD, GOOD)
    ckpt = str(tmp_path / 'five_classes.pth')
    state = runner.model.state_dict()
    state['cls_head.fc_cls.weight'] = torch.zeros(5, 16)
    state['cls_head.fc_cls.bias'] = torch.zeros(5)
    torch.save({'state_dict': state, 'meta': {}}, ckpt)
    runner = runner_for(tmp_path, videos, GOOD, GOOD, load_from=ckpt)
    with pytest.raises(CheckpointMismatchError) as info:
        runner.test()
    message = str(info.value)
    assert 'cls_head.fc_cls.weight: expected (4, 16) vs got (5, 16)' in message
    assert 'cls_head.fc_cls.bias: expected (4,) vs got (5,)' in message
    # fine-tuning from it (training with load_from): a warning, goes on
    runner = runner_for(tmp_path, videos, GOOD, GOOD, load_from=ckpt,
                        **{'train_cfg.max_iters': 1})
    runner.train()
    assert 'the others keep their initial values' in log_text(runner)


def best_runner(work, videos, hook, save_best, **overrides):
    """Evaluation every 2 of 6 iterations with ``TrainProgressMetric``
    (``progress/step`` improves at each, ``progress/coarse`` at the 1st
    and the 3rd), best checkpoints by ``save_best``."""
    import tests.helpers.fault_inject  # noqa: F401  (registers the metric)
    runner_cfg = {
        'default_hooks.checkpoint.type': hook,
        'default_hooks.checkpoint.save_best': save_best,
        'default_hooks.checkpoint.rule': 'greater',
        'train_cfg.val_interval': 2,
        'work_dir': str(work / 'w'),
        **overrides
    }
    root, files = videos
    test_list = write_list(str(work / 'val.txt'),
                           [(files[n], i % 4) for i, n in enumerate(GOOD)])
    runner_cfg.update({
        'val_dataloader': Config(tiny_recognizer_config(
            '', root, test_list, test_list)).test_dataloader,
        'val_cfg': dict(type='ValLoop'),
        'val_evaluator': dict(type='TrainProgressMetric'),
    })
    return runner_for(work, videos, GOOD, GOOD, **runner_cfg)


def best_state(work_dir):
    """(best checkpoint names, the ``best_ckpt*`` info of the last
    checkpoint's message hub, as names)."""
    names = sorted(osp.basename(p)
                   for p in glob.glob(osp.join(work_dir, 'best_*.pth')))
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        last = torch.load(f.read().strip(), map_location='cpu',
                          weights_only=True)
    info = last['message_hub']['runtime_info']
    return names, {k: osp.basename(v) for k, v in info.items()
                   if k.startswith('best_ckpt')}


def test_best_checkpoints_named_and_recorded_as_upstream(tmp_path, videos):
    """Two key indicators (the single-key names and ``best_ckpt`` are
    checked in the next test)."""
    save_best = ['progress/step', 'progress/coarse']
    states = {}
    for hook in ('CheckpointHook', 'AtomicCheckpointHook'):
        work = tmp_path / hook
        work.mkdir()
        best_runner(work, videos, hook, save_best).train()
        states[hook] = best_state(str(work / 'w'))
    assert states['AtomicCheckpointHook'] == states['CheckpointHook']
    names, info = states['CheckpointHook']
    # coarse improved at iterations 2 and 6, step at each
    assert names == ['best_progress_coarse_iter_6.pth',
                     'best_progress_step_iter_6.pth']
    assert info == {'best_ckpt_progress/step': names[1],
                    'best_ckpt_progress/coarse': names[0]}


def test_failed_best_write_keeps_the_previous_best(tmp_path, videos,
                                                   monkeypatch):
    """The best save at iteration 4 dies half-way (as under SIGKILL)."""
    real_put = die_while_writing(monkeypatch, 'best_progress_step_iter_4',
                                 'killed while saving the best')
    left = {}
    for hook in ('CheckpointHook', 'AtomicCheckpointHook'):
        work = tmp_path / hook
        work.mkdir()
        with pytest.raises(KeyboardInterrupt):
            best_runner(work, videos, hook, 'progress/step').train()
        left[hook] = sorted(
            name for name in os.listdir(work / 'w') if 'best' in name)
    # upstream: the iteration-2 best is gone, the new one is truncated
    assert left['CheckpointHook'] == ['best_progress_step_iter_4.pth']
    # ours: the iteration-2 best is complete and loadable
    assert left['AtomicCheckpointHook'] == [
        '.best_progress_step_iter_4.pth.part',
        'best_progress_step_iter_2.pth'
    ]
    work = tmp_path / 'AtomicCheckpointHook' / 'w'
    best = torch.load(work / 'best_progress_step_iter_2.pth',
                      map_location='cpu', weights_only=True)
    assert best['meta']['iter'] == 2 and best['state_dict']
    monkeypatch.setattr(LocalBackend, 'put', real_put)
    best_runner(tmp_path / 'AtomicCheckpointHook', videos,
                'AtomicCheckpointHook', 'progress/step', resume=True).train()
    names, info = best_state(str(work))
    assert names == ['best_progress_step_iter_6.pth']  # iter_2's removed
    assert info == {'best_ckpt': 'best_progress_step_iter_6.pth'}
    assert not glob.glob(str(work / '.*.part'))


# ------------------------------------------------ crafted resume states
def _set(path):
    """An edit of a checkpoint that sets the value at ``path``."""
    def edit(checkpoint, value):
        parent = checkpoint
        for key in path[:-1]:
            parent = parent[key]
        parent[path[-1]] = value
    return edit


def _history(checkpoint):
    return checkpoint['message_hub']['log_scalars']['train/loss']


CRAFTED = {
    'lr_text': (_set(['optimizer', 'param_groups', 0, 'lr']), 'fast',
                "['optimizer']['param_groups'][0]['lr'] is str 'fast'"),
    'lr_nan': (_set(['optimizer', 'param_groups', 0, 'lr']), float('nan'),
               "['param_groups'][0]['lr'] is float nan, expected a finite"),
    'momentum_shape': (_set(['optimizer', 'state', 0, 'momentum_buffer']),
                       torch.zeros(3),
                       "['optimizer']['state'][0]['momentum_buffer']"),
    'history_list': (lambda c, v: setattr(_history(c), '_log_history', v),
                     list(range(100000)),
                     "['log_scalars']['train/loss']['_log_history'] is "
                     'list of length 100000'),
    'history_max_length': (
        lambda c, v: setattr(_history(c), 'max_length', v), 'x',
        "['train/loss']['max_length'] is str 'x'"),
    'keep_ckpt_ids': (_set(['message_hub', 'runtime_info', 'keep_ckpt_ids']),
                      ['../../victim'],
                      "['runtime_info']['keep_ckpt_ids'][0] is str"),
    'meta_iter': (_set(['meta', 'iter']), '2', "['meta']['iter'] is str"),
}


@pytest.fixture(scope='module')
def resumable(tmp_path_factory, videos):
    """A checkpoint of 2 iterations of the tiny recognizer."""
    tmp = tmp_path_factory.mktemp('resumable')
    runner = runner_for(tmp, videos, GOOD, GOOD, **{
        'train_cfg.max_iters': 2, 'work_dir': str(tmp / 'w')})
    runner.train()
    return tmp, str(tmp / 'w' / 'iter_2.pth')


@pytest.mark.parametrize('case', sorted(CRAFTED))
def test_crafted_resume_state_is_refused_before_training(resumable, videos,
                                                         case):
    from a2mm.utils.checkpoint.resume_state import ResumeStateError
    tmp, good = resumable
    edit, value, expected = CRAFTED[case]
    checkpoint = torch.load(good, map_location='cpu', weights_only=False)
    edit(checkpoint, value)
    crafted = str(tmp / f'{case}.pth')
    torch.save(checkpoint, crafted)
    work = tmp / case
    work.mkdir()
    runner = runner_for(work, videos, GOOD, GOOD, resume=True,
                        load_from=crafted, work_dir=str(work / 'w'),
                        **{'train_cfg.max_iters': 4})
    with pytest.raises(ResumeStateError) as error:
        runner.train()
    assert f'refused to resume from {crafted}' in str(error.value)
    assert expected in str(error.value)
    assert runner.train_loop.iter == 0  # refused before any iteration


def test_genuine_resume_state_passes(resumable, videos):
    tmp, good = resumable
    work = tmp / 'genuine'
    work.mkdir()
    runner = runner_for(work, videos, GOOD, GOOD, resume=True,
                        load_from=good, work_dir=str(work / 'w'),
                        **{'train_cfg.max_iters': 3})
    runner.train()
    assert runner.iter == 3
