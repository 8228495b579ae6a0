"""tools/train.py and tools/test.py end to end on a tiny generated dataset:
train an epoch, test the checkpoint with the multi-clip x 3-crop protocol,
resume, and fine-tune with a user config inheriting a2_r50_ucf101.py."""
import glob
import os.path as osp
import pickle
import re

import pytest
import torch
from mmengine.config import Config

import a2mm  # noqa: F401  (allow-lists MMEngine checkpoints for torch.load)
from a2mm.apis.inference import class_scores
from tests.helpers.configs import dataloader_override, write_tiny_config
from tests.helpers.data import NUM_CLASSES
from tests.helpers.tools import REPO, run_tool


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    """One epoch of the tiny A² model: (tmp dir, config, work dir, log)."""
    tmp = tmp_path_factory.mktemp('e2e')
    config = write_tiny_config(tmp, max_epochs=1)
    work_dir = str(tmp / 'work')
    log = run_tool(['python', 'tools/train.py', config, '--work-dir',
                    work_dir, '--seed', '0'])
    return tmp, config, work_dir, log


@pytest.mark.slow
def test_train_one_epoch_saves_checkpoint(trained):
    _, _, work_dir, log = trained
    assert osp.isfile(osp.join(work_dir, 'epoch_1.pth'))
    assert 'Epoch(train) [1][3/3]' in log  # 6 clips, batch 2
    assert re.search(r'Epoch\(val\) \[1\]\[\d+/\d+\]\s+acc/top1', log)
    state = torch.load(osp.join(work_dir, 'epoch_1.pth'), weights_only=True)
    assert any('a2_block' in key for key in state['state_dict'])


@pytest.mark.slow
def test_test_multiclip_metrics_and_dump(trained):
    tmp, config, work_dir, _ = trained
    dump = str(tmp / 'scores.pkl')
    log = run_tool(['python', 'tools/test.py', config,
                    osp.join(work_dir, 'epoch_1.pth'), '--work-dir',
                    str(tmp / 'test_work'), '--dump', dump, '--show-dir',
                    str(tmp / 'vis')])
    metrics = re.search(r'Epoch\(test\).*acc/top1: ([\d.]+)\s+acc/top5: '
                        r'([\d.]+)\s+acc/mean1: ([\d.]+)', log)
    assert metrics, log[-3000:]
    top1, top5, _ = map(float, metrics.groups())
    assert 0 <= top1 <= top5 == 1.0  # 3 classes: top-5 covers all
    assert re.search(r'top-5 accuracy\s+100.00 %', log)
    # --show-dir: the 8 frames of the first view of the videos drawn
    folders = glob.glob(str(tmp / 'vis' / '*' / 'frames_0'))
    assert folders
    for folder in folders:
        assert len(glob.glob(osp.join(folder, '*.png'))) == 8
    with open(dump, 'rb') as f:
        results = pickle.load(f)
    assert len(results) == 3  # one averaged score per test video
    for result in results:
        scores = class_scores(result)  # MMAction2 1.1.0 and 1.2.0 keys
        assert scores.shape == (NUM_CLASSES, )
        # average_clips='prob': the mean of the views' softmax sums to 1
        assert float(scores.sum()) == pytest.approx(1, abs=1e-4)


@pytest.mark.slow
def test_test_pipeline_gives_clips_times_three_crops(trained):
    """The test dataset yields num_clips x 3 crops views per video."""
    from mmaction.registry import DATASETS
    from mmengine.registry import init_default_scope
    _, config, _, _ = trained
    cfg = Config.fromfile(config)
    init_default_scope('mmaction')
    dataset = DATASETS.build(cfg.test_dataloader.dataset)
    num_clips = cfg.test_pipeline[1]['num_clips']
    inputs = dataset[0]['inputs']
    assert num_clips > 1
    assert tuple(inputs.shape) == (num_clips * 3, 3, 8, 32, 32)


@pytest.mark.slow
def test_resume_continues_from_checkpoint(trained):
    tmp, _, work_dir, _ = trained
    config = write_tiny_config(tmp, max_epochs=2)
    log = run_tool(['python', 'tools/train.py', config, '--work-dir',
                    work_dir, '--resume'])
    assert 'resumed epoch: 1' in log
    assert 'Epoch(train) [1]' not in log
    assert 'Epoch(train) [2][3/3]' in log
    assert osp.isfile(osp.join(work_dir, 'epoch_2.pth'))


@pytest.mark.slow
def test_user_config_inherits_ucf101_finetune(trained):
    """A user's two-part config: _base_ = configs/a2_r50_ucf101.py, then
    their data roots (and, to stay fast on CPU, the tiny model and small
    clips). It fine-tunes from the epoch-1 checkpoint given by load_from."""
    tmp, _, work_dir, _ = trained
    data = str(tmp / 'data')
    tiny = Config.fromfile(
        osp.join(REPO, 'configs/_base_/models/a2_tiny_r3d.py')).model
    tiny.cls_head.num_classes = 4  # != 3: the classifier is not loaded
    user = tmp / 'my_ucf101.py'
    user.write_text(
        f"_base_ = [{osp.join(REPO, 'configs/a2_r50_ucf101.py')!r}]\n"
        f"load_from = {osp.join(work_dir, 'epoch_1.pth')!r}\n"
        f'model = dict(_delete_=True, **{tiny.to_dict()!r})\n'
        'train_cfg = dict(max_epochs=1)\n'
        'val_cfg = None\nval_dataloader = None\nval_evaluator = None\n' +
        # small clips for the tiny model
        'train_pipeline = [dict(type="DecordInit"), dict(type="SampleFrames",'
        ' clip_len=8, frame_interval=2, num_clips=1), '
        'dict(type="DecordDecode"), dict(type="Resize", scale=(32, 32), '
        'keep_ratio=False), dict(type="FormatShape", input_format="NCTHW"),'
        ' dict(type="PackActionInputs")]\n' +
        dataloader_override('train_dataloader', f'{data}/train_list.txt',
                            f'{data}/train',
                            dataset_extra=', pipeline=train_pipeline'))
    cfg = Config.fromfile(str(user))
    # inherited from a2_r50_ucf101.py and its bases
    assert cfg.optim_wrapper.optimizer.lr == 0.01
    assert cfg.param_scheduler[0].type == 'StepLR'
    assert cfg.test_dataloader.dataset.ann_file.endswith(
        'ucf101_val_split_1_videos.txt')
    # overridden by the user
    assert cfg.train_dataloader.dataset.data_prefix.video == f'{data}/train'

    log = run_tool(['python', 'tools/train.py', str(user), '--work-dir',
                    str(tmp / 'ucf_work')])
    assert 'Load checkpoint from' in log
    assert 'size mismatch' in log or 'mismatched' in log.lower()
    assert osp.isfile(str(tmp / 'ucf_work' / 'epoch_1.pth'))


def test_ucf101_splits_select_their_lists():
    for split in (1, 2, 3):
        name = 'a2_r50_ucf101' + ('' if split == 1 else f'_split{split}')
        cfg = Config.fromfile(osp.join(REPO, 'configs', f'{name}.py'))
        assert cfg.train_dataloader.dataset.ann_file.endswith(
            f'ucf101_train_split_{split}_videos.txt')
        for loader in (cfg.val_dataloader, cfg.test_dataloader):
            assert loader.dataset.ann_file.endswith(
                f'ucf101_val_split_{split}_videos.txt')
        assert cfg.model.cls_head.num_classes == 101
        assert cfg.test_pipeline[1]['num_clips'] == 10
        assert any(step['type'] == 'ThreeCrop' for step in cfg.test_pipeline)
