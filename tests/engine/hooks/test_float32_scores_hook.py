"""Mixed precision on the CPU: the head's bfloat16 scores reach
MMAction2's loss and AccMetric (Float32ScoresHook). The optim wrapper:
tests/engine/optimizers/test_amp_optim_wrapper.py; the config edits of
--amp: tests/apis/test_config_edits.py."""
from types import SimpleNamespace

import pytest
import torch
from mmaction.evaluation import AccMetric
from mmengine.evaluator import Evaluator

from a2mm.apis import init_model
from a2mm.apis.inference import class_scores
from a2mm.engine.hooks import Float32ScoresHook
from a2mm.engine.hooks.float32_scores_hook import to_float32
from tests.helpers.configs import CONFIG, config_value
from tests.helpers.models import fix_head_scores, labelled_sample

NUM_CLASSES = config_value('model.cls_head.num_classes')
# Head biases with a clear winner: the model predicts class 3 for any clip.
BIAS = [0.0] * NUM_CLASSES
BIAS[3] = 2.0
# Two of three videos are of class 3: top-1 accuracy 2/3.
LABELS = [3, 5, 3]


@pytest.fixture(scope='module')
def model():
    torch.manual_seed(0)
    model = init_model(CONFIG)
    fix_head_scores(model, BIAS)
    return model


def batch(num_views: int = 2):
    """Three videos of ``num_views`` random 4x16x16 views each."""
    gen = torch.Generator().manual_seed(1)
    inputs = [
        torch.rand(num_views, 3, 4, 16, 16, generator=gen) * 255
        for _ in LABELS
    ]
    samples = [labelled_sample(y) for y in LABELS]
    return dict(inputs=inputs, data_samples=samples)


def attach_hook(model):
    hook = Float32ScoresHook()
    runner = SimpleNamespace(model=model)
    hook.before_run(runner)
    return hook, runner


def test_bfloat16_scores_break_accmetric_without_the_hook(model):
    """The MMAction2 behaviour the hook works around."""
    model.eval()
    with torch.no_grad(), torch.autocast('cpu', dtype=torch.bfloat16):
        outputs = model.test_step(batch())
    assert class_scores(outputs[0]).dtype == torch.bfloat16
    evaluator = Evaluator(AccMetric())
    with pytest.raises(TypeError, match='BFloat16'):
        evaluator.process(data_samples=outputs, data_batch=None)


@pytest.mark.parametrize('dtype', [torch.bfloat16, torch.float16])
def test_scores_reach_accmetric_in_float32(model, dtype):
    model.eval()
    hook, runner = attach_hook(model)
    try:
        with torch.no_grad(), torch.autocast('cpu', dtype=dtype):
            # The backbone still runs in the reduced dtype.
            feats = model.extract_feat(
                model.data_preprocessor(batch())['inputs'])[0]
            outputs = model.test_step(batch())
    finally:
        hook.after_run(runner)
    assert feats.dtype == dtype
    scores = torch.stack([class_scores(o) for o in outputs])
    assert scores.dtype == torch.float32 and scores.shape == (3, NUM_CLASSES)
    # average_clips='prob': the views' mean softmax sums to one.
    torch.testing.assert_close(scores.sum(1), torch.ones(3), atol=1e-3,
                               rtol=0)
    evaluator = Evaluator(AccMetric())
    evaluator.process(data_samples=outputs, data_batch=None)
    metrics = evaluator.evaluate(len(LABELS))
    assert metrics['acc/top1'] == pytest.approx(2 / 3)
    # after_run removed the cast: the head is MMAction2's again.
    with torch.no_grad(), torch.autocast('cpu', dtype=dtype):
        assert model.cls_head(feats).dtype == dtype


def test_training_loss_logs_top1_under_bfloat16(model):
    """BaseHead.loss_by_feat's top_k_accuracy calls .numpy() too."""
    model.train()
    data = model.data_preprocessor(batch(num_views=1), True)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        with pytest.raises(TypeError, match='BFloat16'):
            model(**data, mode='loss')
        hook, runner = attach_hook(model)
        try:
            losses = model(**data, mode='loss')
        finally:
            hook.after_run(runner)
    model.eval()
    assert float(losses['top1_acc']) == pytest.approx(2 / 3)
    assert losses['loss_cls'].dtype == torch.float32
    assert torch.isfinite(losses['loss_cls'])
    losses['loss_cls'].backward()  # gradients flow through the cast


def test_to_float32_keeps_other_values():
    half = torch.ones(2, dtype=torch.float16)
    out = to_float32((half, [torch.ones(1, dtype=torch.bfloat16)],
                      torch.ones(1, dtype=torch.long), 'x'))
    assert out[0].dtype == torch.float32
    assert out[1][0].dtype == torch.float32
    assert out[2].dtype == torch.long and out[3] == 'x'
