"""tools/demo.py with an exported .onnx file: onnxruntime behind the same
test pipeline gives the PyTorch demo's top-k (three views per video, folded
into the graph's dynamic batch), raw or softmaxed graph alike.

The graphs come from the torch.export-based exporter where it is installed
(torch 2.13 with onnxscript), else from the TorchScript-based one: the demo
reads either."""
import importlib.util
import re

import pytest
import torch

from a2mm.apis import (OnnxRecognizer, ScoresWrapper, export_onnx,
                       init_model, predict_topk)
from a2mm.apis.export import has_dynamo_onnx_exporter
from a2mm.apis.onnx_inference import views_as_batch
from tests.helpers.configs import CONFIG, config_value
from tests.helpers.data import make_label_map, write_gradient_video
from tests.helpers.models import save_checkpoint
from tests.helpers.tools import load_tool

EXPORTER = ('dynamo' if has_dynamo_onnx_exporter()
            and importlib.util.find_spec('onnxscript') else 'torchscript')

NUM_CLASSES = config_value('model.cls_head.num_classes')
CLIP_LEN = config_value('test_pipeline.1.clip_len')
# Three clips per video instead of the test config's one: three views.
THREE_CLIPS = ['--cfg-options', 'test_pipeline.1.num_clips=3']


@pytest.fixture(scope='module')
def files(tmp_path_factory):
    """A video, a label map, a checkpoint (random weights, A² blocks not at
    identity) and its ONNX export with raw and with softmaxed scores."""
    root = tmp_path_factory.mktemp('demo_onnx')
    torch.manual_seed(0)
    model = init_model(CONFIG)
    example = torch.randn(1, 1, 3, CLIP_LEN, 32, 32)
    exported = {}
    for softmax in (False, True):
        path = str(root / f'tiny_softmax{int(softmax)}.onnx')
        export_onnx(ScoresWrapper(model, softmax=softmax), example, path,
                    exporter=EXPORTER)
        exported[softmax] = path
    return dict(
        video=write_gradient_video(str(root / 'v.mp4'), num_frames=40),
        labels=make_label_map(str(root / 'labels.txt'), NUM_CLASSES),
        label_file=str(root / 'labels.txt'),
        ckpt=save_checkpoint(model, str(root / 'tiny.pth')),
        onnx=exported)


def demo_topk(demo, args, capsys):
    demo.main(args)
    found = re.findall(r'^\s+\d+\. (\S+): ([\d.]+)$',
                       capsys.readouterr().out, re.M)
    assert len(found) == 5, found
    return [label for label, _ in found], [float(s) for _, s in found]


@pytest.mark.parametrize('softmax', [False, True])
def test_onnx_demo_prints_the_pytorch_topk(files, capsys, softmax):
    demo = load_tool('tools/demo.py')
    common = [files['video'], files['label_file'], *THREE_CLIPS]
    torch_labels, torch_scores = demo_topk(
        demo, [CONFIG, files['ckpt'], *common], capsys)
    onnx_labels, onnx_scores = demo_topk(
        demo, [CONFIG, files['onnx'][softmax], *common], capsys)
    assert onnx_labels == torch_labels
    assert onnx_scores == pytest.approx(torch_scores, abs=2e-4)


def test_onnx_scores_equal_pytorch_scores(files):
    """The full score vector, beyond the printed 4 decimals."""
    options = {'test_pipeline.1.num_clips': 3}
    model = init_model(CONFIG, files['ckpt'], cfg_options=options)
    onnx_model = OnnxRecognizer(
        CONFIG, files['onnx'][False], cfg_options=options)
    ref = predict_topk(model, files['video'], NUM_CLASSES)
    got = predict_topk(onnx_model, files['video'], NUM_CLASSES)
    assert [p.index for p in got] == [p.index for p in ref]
    assert [p.score for p in got] == pytest.approx(
        [p.score for p in ref], abs=1e-5)
    # average_clips='prob': a probability vector, not one view's scores.
    assert sum(p.score for p in got) == pytest.approx(1, abs=1e-5)


def test_pipeline_that_does_not_fit_the_graph(files):
    onnx_model = OnnxRecognizer(
        CONFIG,
        files['onnx'][False],
        cfg_options={'test_pipeline.4.crop_size': 24})
    with pytest.raises(ValueError, match=r'tiny_softmax0\.onnx.*--shape 1 1'):
        onnx_model.video_scores(files['video'])


def test_views_as_batch():
    views = torch.arange(6 * 2).reshape(1, 6, 2).float()
    folded = views_as_batch(views, ['batch', 2, 2], 'm.onnx')
    assert folded.shape == (3, 2, 2)
    assert torch.equal(folded.reshape(-1), views.reshape(-1))  # view order
    assert views_as_batch(views, [1, 6, 2], 'm.onnx').shape == (1, 6, 2)
    with pytest.raises(ValueError, match='m.onnx'):
        views_as_batch(views, ['batch', 4, 2], 'm.onnx')  # 6 % 4
    with pytest.raises(ValueError, match='m.onnx'):
        views_as_batch(views, [1, 2, 2], 'm.onnx')  # static batch 1
    with pytest.raises(ValueError, match='m.onnx'):
        views_as_batch(views, ['batch', 1, 3], 'm.onnx')  # other size
