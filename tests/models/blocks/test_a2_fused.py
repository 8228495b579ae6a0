"""The 'fused' (Triton) pass against the 'autograd' pass
(a2mm/models/blocks/a2_fused.py, a2_fused_kernels.py).

Without a GPU, tests/conftest.py sets TRITON_INTERPRET=1 before a2mm is
imported, and the same kernels run in Triton's interpreter on CPU tensors
(float32, float64 and float16; its bfloat16 products are wrong in Triton
3.9's interpreter, so bfloat16 is checked on the GPU only). With a GPU the
kernels are compiled and run on it.
"""
import pytest
import torch
from functorch.compile import make_boxed_func
from torch._dynamo.backends.common import aot_autograd

from a2mm.models import A2Block
from a2mm.models.blocks import a2_fused
from a2mm.models.blocks.a2_autograd import a2_autograd
from a2mm.models.blocks.a2_fused import a2_fused as fused_pass
from tests.helpers.a2_block import (check_pass_matches_autograd, randomize,
                                    random_weights)

DEVICE = 'cuda' if torch.cuda.is_available() else 'cpu'
pytestmark = pytest.mark.skipif(
    a2_fused.unavailable_reason(torch.device(DEVICE)) is not None,
    reason=f'fused pass unavailable on {DEVICE}: '
    f'{a2_fused.unavailable_reason(torch.device(DEVICE))}')
cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason='needs CUDA')


# (batch, C, m, n, N): one ragged tile; several tiles with odd C; C and n
# past one block (tails in both); m > n and one position
SHAPES = [(2, 12, 4, 5, 40), (2, 13, 3, 5, 150), (1, 70, 6, 17, 77),
          (3, 9, 7, 2, 1)]


@pytest.mark.parametrize('dtype', [torch.float32, torch.float64])
@pytest.mark.parametrize('residual', [True, False])
@pytest.mark.parametrize('shape', SHAPES, ids=lambda s: 'x'.join(map(str, s)))
def test_fused_matches_autograd(shape, residual, dtype):
    batch, channels, m, n, num_pos = shape
    weights = random_weights(channels, m=m, n=n, dtype=dtype, device=DEVICE)
    x = torch.randn(batch, channels, num_pos, dtype=dtype, device=DEVICE,
                    requires_grad=True)
    tol = 1e-5 if dtype == torch.float32 else 1e-10
    check_pass_matches_autograd(fused_pass, x, weights, residual, tol, tol)


def test_fused_matches_autograd_at_batch_64():
    weights = random_weights(8, m=2, n=3, device=DEVICE)
    x = torch.randn(64, 8, 5, device=DEVICE, requires_grad=True)
    check_pass_matches_autograd(fused_pass, x, weights, True, 1e-5, 1e-5)


@pytest.mark.parametrize('memory_format', ['contiguous', 'channels_last'])
@pytest.mark.parametrize('norm_cfg', [None, dict(type='BN3d')])
@pytest.mark.parametrize('spatial', [(11, ), (5, 7), (3, 4, 5)],
                         ids=['1d', '2d', '3d'])
def test_fused_block_matches_autograd_block(spatial, norm_cfg,
                                            memory_format):
    if norm_cfg is not None and len(spatial) != 3:
        norm_cfg = dict(type=f'BN{len(spatial)}d')
    x = torch.randn((2, 16) + spatial, device=DEVICE, dtype=torch.float64)
    if memory_format == 'channels_last':
        if len(spatial) == 1:
            pytest.skip('no channels-last format for 1D inputs')
        x = x.to(memory_format=torch.channels_last_3d if len(spatial) == 3
                 else torch.channels_last)
    x.requires_grad_()
    blocks = [randomize(A2Block(16, descriptor_channels=6, num_descriptors=5,
                                norm_cfg=norm_cfg, impl=impl)).to(
                                    DEVICE, torch.float64)
              for impl in ('fused', 'autograd')]
    outs = [block(x) for block in blocks]
    torch.testing.assert_close(outs[0], outs[1])
    assert outs[0].stride() == x.stride()  # the input's memory format
    grad = torch.randn_like(outs[1])
    grads = [torch.autograd.grad(out, [x] + list(block.parameters()), grad)
             for out, block in zip(outs, blocks)]
    for got, want in zip(*grads):
        # with a norm, phi's and the output's biases have gradient 0 (the
        # norm removes a constant per channel): float64 keeps that noise
        # under the absolute tolerance
        torch.testing.assert_close(got, want)


def test_fused_half_products_close_to_autograd():
    # float16 products, float32 softmaxes and residual: the autocast case
    weights = random_weights(24, m=6, n=6, device=DEVICE)
    x = torch.randn(2, 24, 50, device=DEVICE, requires_grad=True)
    got = fused_pass(x, weights, low=torch.float16, residual=True)
    assert got.dtype == torch.float32
    want = x + a2_autograd(x, weights, low=torch.float16,
                           residual=False).float()
    delta = want - x
    assert ((got - want).norm() / delta.norm()) < 5e-3
    grads = torch.autograd.grad(got, [x, *weights], torch.ones_like(got))
    want_grads = torch.autograd.grad(want, [x, *weights],
                                     torch.ones_like(got))
    for a, b in zip(grads, want_grads):
        assert (a - b).norm() / b.norm() < 1e-2


def test_fused_grad_of_broadcast_output_gradient():
    # y.sum().backward() hands the backward an expanded (stride 0) gradient
    weights = random_weights(8, m=3, n=3, device=DEVICE)
    x = torch.randn(2, 8, 30, device=DEVICE, requires_grad=True)
    fused_pass(x, weights, low=x.dtype, residual=False).sum().backward()
    want = torch.autograd.grad(
        a2_autograd(x, weights, low=x.dtype, residual=False).sum(), x)[0]
    torch.testing.assert_close(x.grad, want, rtol=1e-5, atol=1e-5)


def test_compile_fullgraph_keeps_the_custom_op():
    """torch.compile(fullgraph=True) of a training step of a block with
    impl='fused': one graph, with the forward custom op in it, and the
    compiled step matches eager (AOTAutograd traces the backward op
    through its fake function)."""
    graphs = []

    def backend(gm, example_inputs):
        graphs.append(str(gm.graph))
        return aot_autograd(fw_compiler=lambda g, _: make_boxed_func(g))(
            gm, example_inputs)

    block = randomize(A2Block(16, impl='fused')).to(DEVICE)
    x = torch.randn(2, 16, 3, 4, 5, device=DEVICE, requires_grad=True)
    compiled = torch.compile(block, fullgraph=True, backend=backend)
    out = compiled(x)
    assert len(graphs) == 1 and 'a2mm.a2_fused_forward' in graphs[0]
    grad = torch.randn_like(out)
    got = torch.autograd.grad(out, [x] + list(block.parameters()), grad)
    want_out = block(x)
    want = torch.autograd.grad(want_out, [x] + list(block.parameters()),
                               grad)
    torch.testing.assert_close(out, want_out)
    for a, b in zip(got, want):
        torch.testing.assert_close(a, b)


# On the GPU: every dtype at the sizes of A²-ResNet-50's blocks (batch 8),
# and peak memory no more than the autograd pass's.
R50_SIZES = {'res3': (512, (4, 28, 28)), 'res4': (1024, (4, 14, 14))}


def _step(block, x, dtype):
    """Output and gradients (x, parameters) of one autocast step."""
    with torch.autocast('cuda', dtype=dtype, enabled=dtype != torch.float32):
        out = block(x)
    grad = torch.ones_like(out)
    return [out] + list(torch.autograd.grad(
        out, [x] + list(block.parameters()), grad))


@cuda
@pytest.mark.parametrize('dtype', [torch.float32, torch.float16,
                                   torch.bfloat16])
@pytest.mark.parametrize('stage', list(R50_SIZES))
def test_cuda_fused_matches_autograd_at_r50_sizes(stage, dtype):
    channels, spatial = R50_SIZES[stage]
    x = torch.randn((8, channels) + spatial, device='cuda',
                    requires_grad=True)
    results = []
    for impl in ('fused', 'autograd'):
        block = randomize(A2Block(channels, impl=impl), scale=3.0).cuda()
        results.append(_step(block, x, dtype))
    tol = 1e-3 if dtype == torch.float32 else 3e-2
    names = ['out', 'x'] + [n for n, _ in block.named_parameters()]
    want_delta = results[1][0] - x  # compare the block's branch, not x
    got_delta = results[0][0] - x
    assert (got_delta - want_delta).norm() / want_delta.norm() < tol
    for name, got, want in zip(names[1:], results[0][1:], results[1][1:]):
        assert torch.isfinite(got).all(), name
        assert (got.float() - want.float()).norm() / want.float().norm() \
            < tol, name


@cuda
@pytest.mark.parametrize('dtype', [torch.float32, torch.bfloat16])
@pytest.mark.parametrize('stage', list(R50_SIZES))
def test_cuda_fused_peak_memory_no_more_than_autograd(stage, dtype):
    channels, spatial = R50_SIZES[stage]
    x = torch.randn((8, channels) + spatial, device='cuda',
                    requires_grad=True)
    peaks = {}
    for impl in ('fused', 'autograd'):
        block = randomize(A2Block(channels, impl=impl)).cuda()
        _step(block, x, dtype)  # warm-up (kernel compilation)
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        before = torch.cuda.memory_allocated()
        _step(block, x, dtype)
        torch.cuda.synchronize()
        peaks[impl] = torch.cuda.max_memory_allocated() - before
    assert peaks['fused'] <= peaks['autograd'], peaks


@cuda
def test_cuda_auto_follows_tf32_setting():
    # float32 products follow torch.backends.cuda.matmul.allow_tf32, as
    # PyTorch's own matmuls do: exact-ish without, TF32-close with
    weights = random_weights(256, m=64, n=64, device='cuda')
    x = torch.randn(2, 256, 3000, device='cuda')
    want = a2_autograd(x.double(), weights._replace(
        **{k: v.double() for k, v in weights._asdict().items()}),
        low=torch.float64, residual=False)
    errors = {}
    saved = torch.backends.cuda.matmul.allow_tf32
    try:
        for tf32 in (False, True):
            torch.backends.cuda.matmul.allow_tf32 = tf32
            with torch.no_grad():
                got = fused_pass(x, weights, low=torch.float32,
                                 residual=False)
            errors[tf32] = float((got.double() - want).norm() / want.norm())
    finally:
        torch.backends.cuda.matmul.allow_tf32 = saved
    assert errors[False] < 1e-5 and errors[True] > errors[False], errors


@pytest.mark.skipif(DEVICE != 'cpu', reason='probes CPU tensors in the '
                    'interpreter')
def test_probe_agrees_even_inside_a_fake_mode(monkeypatch):
    """The probe behind impl='auto' on CUDA (here on CPU tensors in the
    interpreter) runs the kernels and compares them with autograd, also when
    torch.compile asks it while tracing (a fake tensor mode active)."""
    from torch._subclasses.fake_tensor import FakeTensorMode
    monkeypatch.setattr(torch.cuda, 'get_device_capability',
                        lambda device: (9, 0))
    assert a2_fused._probe(torch.device('cpu')) is None
    with FakeTensorMode():
        assert a2_fused._probe(torch.device('cpu')) is None
    monkeypatch.setattr(a2_fused, '_forward',
                        lambda *args: (torch.zeros(2, 20, 37), ))
    assert 'disagree with autograd' in a2_fused._probe(torch.device('cpu'))
    monkeypatch.setattr(torch.cuda, 'get_device_capability',
                        lambda device: (7, 0))
    assert 'compute capability (7, 0) is older' in a2_fused._probe(
        torch.device('cpu'))
