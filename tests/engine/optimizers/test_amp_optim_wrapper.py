"""DeviceAmpOptimWrapper: mixed precision training without a GPU, where
MMEngine's AmpOptimWrapper refuses to start."""
import pytest
import torch
from mmengine.optim import AmpOptimWrapper

from a2mm.engine.optimizers import DeviceAmpOptimWrapper, has_accelerator


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
