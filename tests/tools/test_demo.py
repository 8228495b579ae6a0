"""tools/demo.py on a small A² recognizer: labels printed in score order for
one video, a folder and a list; labelled mp4 and GIF outputs."""
import os
import subprocess
import sys

import cv2
import pytest
import torch

from a2mm.apis import init_model
from tests.helpers.configs import CONFIG, config_value
from tests.helpers.data import make_label_map, write_gradient_video
from tests.helpers.models import (distinct_bias, fix_head_scores,
                                  save_checkpoint)
from tests.helpers.tools import load_tool, tool_env

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))
BIAS = distinct_bias(config_value('model.cls_head.num_classes'))


@pytest.fixture(scope='module')
def files(tmp_path_factory):
    """Two videos in a folder, a label map and a checkpoint whose scores are
    softmax(BIAS) whatever the video."""
    root = tmp_path_factory.mktemp('demo')
    (root / 'videos').mkdir()
    videos = [
        write_gradient_video(str(root / 'videos' / 'b.mp4'), num_frames=12),
        write_gradient_video(str(root / 'videos' / 'a.mp4'), num_frames=10)
    ]
    model = init_model(CONFIG)
    fix_head_scores(model, BIAS)
    return dict(
        root=root,
        videos=videos,
        labels=make_label_map(str(root / 'labels.txt'), len(BIAS)),
        label_file=str(root / 'labels.txt'),
        ckpt=save_checkpoint(model, str(root / 'tiny.pth')))


def _expected_lines(labels, k):
    probs = torch.tensor(BIAS).softmax(0)
    order = torch.argsort(probs, descending=True)[:k].tolist()
    return [
        f'  {r}. {labels[i]}: {probs[i].item():.4f}'
        for r, i in enumerate(order, 1)
    ]


def test_prints_topk_in_score_order_for_a_folder(files, capsys):
    demo = load_tool('tools/demo.py')
    demo.main([
        CONFIG, files['ckpt'],
        str(files['root'] / 'videos'), files['label_file']
    ])
    out = capsys.readouterr().out.splitlines()
    expected = _expected_lines(files['labels'], 5)
    # Folder videos come sorted by name: a.mp4, then b.mp4.
    a, b = sorted(files['videos'])
    assert out[out.index(a) + 1:out.index(a) + 6] == expected
    assert out[out.index(b) + 1:out.index(b) + 6] == expected


def test_list_file_topk_and_gif_output(files, capsys):
    demo = load_tool('tools/demo.py')
    listing = files['root'] / 'list.txt'
    listing.write_text('videos/a.mp4\n')
    out_dir = files['root'] / 'out'
    demo.main([
        CONFIG, files['ckpt'],
        str(listing), files['label_file'], '--topk', '2', '--out',
        str(out_dir), '--out-format', 'gif'
    ])
    out = capsys.readouterr().out.splitlines()
    start = out.index(files['videos'][1]) + 1
    assert out[start:start + 3] == _expected_lines(files['labels'], 2) + [
        f'  -> {out_dir / "a.gif"}'
    ]
    from PIL import Image
    with Image.open(out_dir / 'a.gif') as gif:
        assert gif.n_frames == 10
        assert gif.size == (64, 48)


def test_mp4_output_from_the_command_line(files, tmp_path):
    """The script runs standalone and writes a readable labelled mp4."""
    out_file = tmp_path / 'labelled.mp4'
    proc = subprocess.run([
        sys.executable, 'tools/demo.py', CONFIG, files['ckpt'],
        files['videos'][0], files['label_file'], '--out',
        str(out_file), '--target-resolution', '128', '-1'
    ],
                          cwd=ROOT,
                          env=tool_env(),
                          capture_output=True,
                          text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert _expected_lines(files['labels'], 5)[0] in proc.stdout
    cap = cv2.VideoCapture(str(out_file))
    assert cap.get(cv2.CAP_PROP_FRAME_COUNT) == 12
    ok, frame = cap.read()
    cap.release()
    assert ok and frame.shape == (96, 128, 3)
    # The label box (dark, top-left) is drawn over the bright frame.
    assert frame[:8, :40].mean() < frame[-8:, -40:].mean()


def test_one_output_file_for_many_videos_is_refused(files):
    demo = load_tool('tools/demo.py')
    with pytest.raises(ValueError, match='pass a folder'):
        demo.main([
            CONFIG, files['ckpt'],
            str(files['root'] / 'videos'), files['label_file'], '--out',
            str(files['root'] / 'one.mp4')
        ])
