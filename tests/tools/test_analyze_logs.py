"""tools/analysis/analyze_logs.py on MMEngine-format json logs, and the
TensorBoard visualizer base config."""
import glob
import json
import os
import os.path as osp

import cv2
import pytest
from mmengine.config import Config

from tests.helpers.tools import load_tool

ROOT = osp.dirname(osp.dirname(osp.dirname(__file__)))


def write_run(work_dir, epochs=3, iters_per_epoch=4, interval=2, seed=0.0):
    """A work dir laid out as MMEngine leaves it, with its scalars log in
    MMEngine's format: training lines with epoch/iter/step, validation lines
    with the metrics and step = epoch."""
    log = osp.join(work_dir, '20240101_000000', 'vis_data', 'scalars.json')
    os.makedirs(osp.dirname(log))
    with open(log, 'w') as f:
        for epoch in range(1, epochs + 1):
            for i in range(interval, iters_per_epoch + 1, interval):
                it = (epoch - 1) * iters_per_epoch + i
                f.write(json.dumps(dict(lr=0.01, loss=2.0 / it + seed,
                                        time=0.5 + 0.1 * (it == interval),
                                        data_time=0.1, epoch=epoch, iter=it,
                                        step=it)) + '\n')
            f.write(json.dumps({'acc/top1': 0.2 * epoch + seed,
                                'acc/top5': 0.3 * epoch, 'step': epoch}) +
                    '\n')
    return log


def test_plot_curve_png(tmp_path, capsys):
    tool = load_tool('tools/analysis/analyze_logs.py')
    run_a = write_run(str(tmp_path / 'a2'))
    write_run(str(tmp_path / 'i3d'), seed=0.05)
    out = str(tmp_path / 'curves.png')
    # One run by its json file, one by its work dir.
    tool.main(['plot_curve', run_a, str(tmp_path / 'i3d'), '--keys', 'loss',
               'acc/top1', 'lr', '--legend', 'A2', 'I3D', '--out', out])
    image = cv2.imread(out)
    assert image is not None
    width, height = tool.PANEL_SIZE
    assert image.shape == (round(3 * height * tool.DPI),
                           round(width * tool.DPI), 3)
    printed = capsys.readouterr().out
    assert 'plot loss of ' + run_a + ' (6 points)' in printed
    assert 'plot acc/top1 of ' + str(tmp_path / 'i3d') + ' (3 points)' in \
        printed


def test_load_json_log_splits_train_and_val(tmp_path):
    tool = load_tool('tools/analysis/analyze_logs.py')
    train, val, by_epoch = tool.load_json_log(write_run(str(tmp_path)))
    assert by_epoch
    assert train['loss'][0] == [2, 4, 6, 8, 10, 12]
    assert val['acc/top1'][0] == [1, 2, 3]
    assert 'acc/top1' not in train and 'loss' not in val


def test_errors(tmp_path):
    tool = load_tool('tools/analysis/analyze_logs.py')
    run = write_run(str(tmp_path / 'run'))
    with pytest.raises(KeyError, match='acc/top1'):
        tool.main(['plot_curve', run, '--keys', 'acc/mean1',
                   '--out', str(tmp_path / 'x.png')])
    with pytest.raises(FileNotFoundError, match='scalars.json'):
        tool.find_json_log(str(tmp_path))
    bad = tmp_path / 'bad.json'
    bad.write_text('{"loss": 1.0}\n')
    with pytest.raises(ValueError, match='line 1'):
        tool.load_json_log(str(bad))


def test_cal_train_time(tmp_path, capsys):
    tool = load_tool('tools/analysis/analyze_logs.py')
    tool.main(['cal_train_time', write_run(str(tmp_path))])
    # The first logged time (0.6, warm-up) is dropped: all others are 0.5.
    assert 'average iter time 0.5000 s/iter' in capsys.readouterr().out


def test_tensorboard_visualizer_config(tmp_path):
    from mmaction.registry import VISUALIZERS
    cfg = Config.fromfile(
        osp.join(ROOT, 'configs/_base_/visualizers/tensorboard.py'))
    # It replaces default_runtime.py, so it keeps the rest of it.
    assert cfg.default_scope == 'mmaction'
    assert [b['type'] for b in cfg.visualizer.vis_backends] == [
        'LocalVisBackend', 'TensorboardVisBackend'
    ]
    vis_cfg = dict(cfg.visualizer, save_dir=str(tmp_path),
                   name='test_tensorboard_visualizer')
    visualizer = VISUALIZERS.build(vis_cfg)
    visualizer.add_scalars({'loss': 1.5}, step=1)
    visualizer.close()
    assert glob.glob(str(tmp_path / '**' / 'events.out.tfevents.*'),
                     recursive=True)
    assert osp.isfile(tmp_path / 'vis_data' / 'scalars.json')
