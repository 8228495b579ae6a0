"""Mixed precision on the CPU: the head's bfloat16 scores reach
MMAction2's loss and AccMetric (Float32ScoresHook), the optim wrapper
autocasts and steps without a GPU, and the config edits of --amp."""
from types import SimpleNamespace

import pytest
import torch
from mmaction.evaluation import AccMetric
from mmengine.config import Config
from mmengine.evaluator import Evaluator
from mmengine.optim import AmpOptimWrapper

from a2mm.apis import init_model
from a2mm.apis.inference import class_scores
from a2mm.engine.amp import (enable_amp_test, enable_amp_train,
                             resolve_amp_dtype)
from a2mm.engine.amp_optim_wrapper import (DeviceAmpOptimWrapper,
                                           has_accelerator)
from a2mm.engine.float32_scores_hook import Float32ScoresHook, to_float32
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


@pytest.mark.skipif(has_accelerator(), reason='the CPU path only')
def test_mmengine_amp_wrapper_refuses_the_cpu():
    """Why a2mm has its own wrapper (docs/train_test.md)."""
    net = torch.nn.Linear(4, 2)
    with pytest.raises(AssertionError, match='only available training on'):
        AmpOptimWrapper(optimizer=torch.optim.SGD(net.parameters(), lr=0.1))


@pytest.mark.skipif(has_accelerator(), reason='the CPU path only')
@pytest.mark.parametrize('dtype,scaled', [('bfloat16', False),
                                          ('float16', True)])
def test_device_amp_wrapper_trains_on_the_cpu(dtype, scaled):
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Conv3d(3, 4, 3), torch.nn.AdaptiveAvgPool3d(1),
        torch.nn.Flatten(), torch.nn.Linear(4, 2))
    wrapper = DeviceAmpOptimWrapper(
        dtype=dtype, optimizer=torch.optim.SGD(net.parameters(), lr=0.1))
    before = [p.detach().clone() for p in net.parameters()]
    x = torch.randn(2, 3, 4, 8, 8)
    with wrapper.optim_context(net):
        hidden = net[0](x)
        loss = torch.nn.functional.cross_entropy(
            net[1:](hidden), torch.tensor([0, 1]))
    assert hidden.dtype == getattr(torch, dtype)
    wrapper.update_params(loss)
    assert all(p.dtype == torch.float32 for p in net.parameters())
    assert all(not torch.equal(a, b) for a, b in zip(before,
                                                     net.parameters()))
    assert wrapper.loss_scaler.is_enabled() == scaled
    state = wrapper.state_dict()
    assert ('scale' in state['loss_scaler']) == scaled
    wrapper.load_state_dict(state)  # resume


def test_resolve_amp_dtype():
    assert resolve_amp_dtype('bf16') is torch.bfloat16
    assert resolve_amp_dtype('float16') is torch.float16
    assert resolve_amp_dtype(None) is None
    with pytest.raises(ValueError, match="'fp8'"):
        resolve_amp_dtype('fp8')
    with pytest.raises(ValueError, match='float32'):
        resolve_amp_dtype(torch.float32)


def test_enable_amp_config_edits():
    cfg = Config(
        dict(
            optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
            val_cfg=dict(type='ValLoop', fp16=True),
            test_cfg=dict(type='TestLoop'),
            custom_hooks=[dict(type='BadVideoHook')]))
    enable_amp_train(cfg, 'bf16')
    assert cfg.optim_wrapper.type == 'DeviceAmpOptimWrapper'
    assert cfg.optim_wrapper.dtype == 'bfloat16'
    assert cfg.val_cfg == dict(type='AmpValLoop', dtype='bfloat16')
    enable_amp_test(cfg, 'fp16')
    assert cfg.test_cfg == dict(type='AmpTestLoop', dtype='float16')
    # One Float32ScoresHook however often amp is enabled.
    assert [h['type'] for h in cfg.custom_hooks] == ['BadVideoHook',
                                                     'Float32ScoresHook']
    bad = Config(dict(optim_wrapper=dict(type='ApexOptimWrapper')))
    with pytest.raises(ValueError, match='ApexOptimWrapper'):
        enable_amp_train(bad, 'fp16')
    with pytest.raises(ValueError, match='MyLoop'):
        enable_amp_test(Config(dict(test_cfg=dict(type='MyLoop'))), 'bf16')
