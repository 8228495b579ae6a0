"""Tests of A2Block against the paper's equations (A²-Nets, Sec. 3)."""
import os

import pytest
import torch
from mmcv.cnn import build_plugin_layer

import a2mm  # noqa: F401  (registers A2Block)
from a2mm.models import A2Block
from a2mm.models.blocks import a2_chunked, a2_fused
from a2mm.registry import MODELS
from a2mm.utils.proc_memory import reset_peak_rss, status_mib
from tests.helpers.models import check_compiled_matches_eager
from tests.helpers.a2_block import naive_a2, randomize


SHAPES = [(2, 16, 11), (2, 16, 5, 7), (2, 16, 3, 4, 5)]


@pytest.fixture
def chunked_calls(monkeypatch):
    """Count the calls of the chunked training pass (it still computes the
    result)."""
    calls, chunked = [], a2_chunked.a2_chunked
    monkeypatch.setattr(a2_chunked, 'a2_chunked',
                        lambda *a, **k: calls.append(1) or chunked(*a, **k))
    return calls


@pytest.fixture
def fused_calls(monkeypatch):
    """Count the calls of the fused pass (it still computes the result)."""
    calls, fused = [], a2_fused.a2_fused
    monkeypatch.setattr(a2_fused, 'a2_fused',
                        lambda *a, **k: calls.append(1) or fused(*a, **k))
    return calls


@pytest.mark.parametrize('shape', SHAPES, ids=['1d', '2d', '3d'])
@pytest.mark.parametrize('chunk_size', [4096, 7])
def test_matches_naive_reference(shape, chunk_size):
    block = randomize(A2Block(16, chunk_size=chunk_size)).double()
    x = torch.randn(shape, dtype=torch.float64)
    out = block(x)
    assert out.shape == x.shape
    torch.testing.assert_close(out, naive_a2(block, x))


@pytest.mark.parametrize('m,n', [(3, 5), (6, 2)])
def test_unequal_m_n_contracts_the_right_index(m, n):
    # with m != n, contracting G over the wrong index cannot even run
    block = randomize(A2Block(8, descriptor_channels=m,
                              num_descriptors=n)).double()
    x = torch.randn(2, 8, 3, 4, 5, dtype=torch.float64)
    torch.testing.assert_close(block(x), naive_a2(block, x))


def test_weights_parts_are_the_documented_rows():
    """phi rows [0, m), theta [m, m+n), rho [m+n, m+2n) of the fused weight
    (the checkpoint layout), as views of it."""
    block = randomize(A2Block(8, descriptor_channels=3, num_descriptors=2))
    w = block.in_proj_weight
    weights = block.weights()
    assert (weights.m, weights.n) == (3, 2)
    for part, rows in ((weights.phi, w[:3]), (weights.theta, w[3:5]),
                       (weights.rho, w[5:7]), (weights.theta_rho, w[3:7])):
        assert torch.equal(part, rows)
        assert part.data_ptr() == rows.data_ptr()  # a view, not a copy


def test_defaults_follow_paper():
    block = A2Block(64)
    assert block.descriptor_channels == 16 and block.num_descriptors == 16


def test_softmax_axes_and_batch_independence():
    # every sample must be computed on its own: a softmax over the batch
    # axis (softmax without dim) would couple the samples
    block = randomize(A2Block(8)).double()
    x = torch.randn(3, 8, 2, 3, 4, dtype=torch.float64)
    full = block(x)
    for i in range(3):
        torch.testing.assert_close(full[i:i + 1], block(x[i:i + 1]))


def test_identity_at_init():
    block = A2Block(32)
    x = torch.randn(2, 32, 2, 3, 4)
    assert torch.equal(block(x), x)


def test_identity_at_init_with_norm():
    block = A2Block(32, norm_cfg=dict(type='BN3d'))
    x = torch.randn(2, 32, 2, 3, 4)
    assert torch.equal(block(x), x)
    assert block.norm is not None and torch.all(block.norm.weight == 0)


def test_zero_init_last_after_reset():
    block = A2Block(32, norm_cfg=dict(type='BN3d'))
    torch.nn.init.ones_(block.norm.weight)  # what ResNet3d's init does
    x = torch.randn(2, 32, 2, 3, 4)
    assert not torch.equal(block(x), x)
    block.zero_init_last()
    assert torch.equal(block(x), x)


def test_not_identity_without_zero_init():
    block = A2Block(16, zero_init=False)
    x = torch.randn(1, 16, 2, 3, 4)
    assert not torch.allclose(block(x), x)


@pytest.mark.parametrize('chunk_size', [4096, 5])
def test_gradcheck(chunk_size):
    block = randomize(A2Block(8, descriptor_channels=3, num_descriptors=2,
                              chunk_size=chunk_size)).double()
    x = torch.randn(2, 8, 2, 2, 3, dtype=torch.float64, requires_grad=True)
    params = tuple(block.parameters())

    def fn(x, *ps):
        return torch.func.functional_call(
            block, {name: p for (name, _), p in
                    zip(block.named_parameters(), ps)}, (x, ))

    assert torch.autograd.gradcheck(fn, (x, ) + tuple(
        p.detach().requires_grad_() for p in params))


def test_permuting_positions_permutes_output():
    block = randomize(A2Block(8)).double()
    x = torch.randn(2, 8, 24, dtype=torch.float64)
    perm = torch.randperm(24)
    torch.testing.assert_close(block(x[..., perm]), block(x)[..., perm])
    # the same positions laid out as 1D, 2D or 3D give the same result
    torch.testing.assert_close(
        block(x.reshape(2, 8, 2, 3, 4)).reshape(2, 8, 24), block(x))


def test_build_from_registry():
    block = MODELS.build(
        dict(type='A2Block', in_channels=32, descriptor_channels=4))
    assert isinstance(block, A2Block)
    assert block.descriptor_channels == 4 and block.num_descriptors == 8


@pytest.mark.parametrize('type_name', ['A2Block', 'mmaction.A2Block'])
def test_build_plugin_layer(type_name):
    name, layer = build_plugin_layer(dict(type=type_name), in_channels=16,
                                     postfix='_1')
    assert name == 'a2_block_1'
    assert isinstance(layer, A2Block) and layer.in_channels == 16


@pytest.mark.parametrize('x_dtype', [torch.float32, torch.bfloat16],
                         ids=['fp32_input', 'bf16_input'])
def test_bf16_autocast_training_close_to_fp32(x_dtype):
    # a float32 input (the block first in an autocast region) and a bf16
    # one (after an autocast convolution) take different output paths
    block = randomize(A2Block(64), scale=3.0)
    x = torch.randn(2, 64, 4, 8, 8).to(x_dtype).requires_grad_()
    grad = torch.randn(x.shape)
    ref = block(x.float())
    ref_grads = torch.autograd.grad(ref, [x] + list(block.parameters()),
                                    grad)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        out = block(x)
    assert out.dtype == x.dtype
    grads = torch.autograd.grad(out, [x] + list(block.parameters()),
                                grad.to(x_dtype))
    delta = (out - x).float()
    ref_delta = ref - x.float()
    rel = (delta - ref_delta).norm() / ref_delta.norm()
    assert rel < 2e-2, rel
    for got, want in zip(grads, ref_grads):
        assert got.dtype == (x_dtype if got.shape == x.shape else
                             torch.float32)
        rel = (got.float() - want).norm() / want.norm()
        assert rel < 3e-2, rel


def test_bf16_softmax_over_many_positions_stays_normalised():
    # 32k positions: a bf16 softmax would lose the small gather weights
    block = randomize(A2Block(8), scale=3.0)
    x = torch.randn(1, 8, 32, 32, 32)
    ref = block(x)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        out = block(x)
    rel = ((out - x) - (ref - x)).norm() / (ref - x).norm()
    assert rel < 2e-2, rel


@pytest.mark.parametrize('shape,message', [
    ((2, 16), 'spatial dims'),
    ((1, 2, 16, 2, 2, 2), 'spatial dims'),
    ((2, 12, 3, 4), 'expects 16 input channels, got 12'),
])
def test_bad_input(shape, message):
    with pytest.raises(ValueError, match=message):
        A2Block(16)(torch.randn(shape))


@pytest.mark.parametrize('kwargs,key', [
    (dict(in_channels=0), 'in_channels'),
    (dict(in_channels=2), 'descriptor_channels'),
    (dict(in_channels=16, num_descriptors=0), 'num_descriptors'),
    (dict(in_channels=16, chunk_size=0), 'chunk_size'),
    (dict(in_channels=16, impl='flash'), 'impl'),
])
def test_bad_arguments(kwargs, key):
    with pytest.raises(ValueError, match=key):
        A2Block(**kwargs)


def test_channels_last_3d():
    block = randomize(A2Block(16))
    x = torch.randn(2, 16, 3, 4, 5)
    x_cl = x.to(memory_format=torch.channels_last_3d)
    out = block(x_cl)
    torch.testing.assert_close(out, block(x))
    assert out.is_contiguous(memory_format=torch.channels_last_3d)


def test_jit_trace():
    block = randomize(A2Block(16)).eval()
    x = torch.randn(1, 16, 2, 3, 4)
    traced = torch.jit.trace(block, x)
    y = torch.randn(2, 16, 2, 3, 4)
    torch.testing.assert_close(traced(y), block(y))


def test_torch_compile_fullgraph():
    block = randomize(A2Block(16))
    x = torch.randn(2, 16, 2, 3, 4)
    compiled = torch.compile(block, fullgraph=True, backend='eager')
    torch.testing.assert_close(compiled(x), block(x))


def test_training_uses_chunked_pass_and_inference_the_autograd_one(
        chunked_calls):
    block = A2Block(8)
    x = torch.randn(1, 8, 4)
    block(x)
    assert chunked_calls == [1]
    with torch.no_grad():
        block(x)
    assert chunked_calls == [1]


@pytest.mark.skipif(not os.path.exists('/proc/self/clear_refs'),
                    reason='needs Linux /proc to read peak memory')
def test_no_quadratic_memory():
    # 16x56x56 = 50176 positions: one N x N float32 tensor would take 9.4 GiB;
    # the block's own tensors here are a few MiB.
    block = randomize(A2Block(8))
    x = torch.randn(1, 8, 16, 56, 56, requires_grad=True)
    block(x).sum().backward()  # warm-up
    reset_peak_rss()
    before = status_mib('VmRSS')
    block(x).sum().backward()
    assert status_mib('VmHWM') - before < 256


# CUDA: the same equations on the GPU (skipped where there is none). The
# operator runs on whatever device its input is on; these check that the
# hand-written backward, the fp32 softmaxes under fp16/bf16 autocast and the
# no-N x N promise hold there too.
cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason='needs CUDA')


@cuda
@pytest.mark.parametrize('impl,chunk_size', [('chunked', 4096),
                                             ('chunked', 7),
                                             ('autograd', 4096),
                                             ('fused', 4096)])
def test_cuda_matches_naive_reference_with_grads(impl, chunk_size):
    block = randomize(A2Block(16, descriptor_channels=6, num_descriptors=5,
                              chunk_size=chunk_size, impl=impl)).double()
    x = torch.randn(2, 16, 3, 4, 5, dtype=torch.float64)
    grad = torch.randn_like(x)
    results = []
    for device, fn in (('cpu', naive_a2), ('cuda', lambda b, v: b(v))):
        b = block.to(device)
        xd = x.to(device).requires_grad_()
        out = fn(b, xd)
        grads = torch.autograd.grad(out, [xd] + list(b.parameters()),
                                    grad.to(device))
        results.append([out] + list(grads))
    for ref, got in zip(*results):
        assert got.is_cuda
        torch.testing.assert_close(got.cpu(), ref)


@cuda
@pytest.mark.parametrize('impl', ['chunked', 'autograd', 'fused'])
@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16])
@pytest.mark.parametrize('half_input', [False, True],
                         ids=['fp32_input', 'half_input'])
@pytest.mark.parametrize('size', [(4, 8, 8), (32, 32, 32)],
                         ids=['small', '32k_positions'])
def test_cuda_autocast_training_close_to_fp32(impl, dtype, half_input, size):
    # 32k positions: a half-precision softmax over positions would lose the
    # small gather weights; the block takes both softmaxes in float32
    block = randomize(A2Block(64, impl=impl), scale=3.0).cuda()
    x = torch.randn((2, 64) + size, device='cuda')
    x = (x.to(dtype) if half_input else x).requires_grad_()
    grad = torch.randn(x.shape, device='cuda')
    ref = block(x.float())
    ref_grads = torch.autograd.grad(ref, [x] + list(block.parameters()),
                                    grad)
    with torch.autocast('cuda', dtype=dtype):
        out = block(x)
    assert out.dtype == x.dtype
    grads = torch.autograd.grad(out, [x] + list(block.parameters()),
                                grad.to(x.dtype))
    ref_delta = ref - x.float()
    rel = ((out - x).float() - ref_delta).norm() / ref_delta.norm()
    assert rel < 2e-2, rel
    for got, want in zip(grads, ref_grads):
        assert torch.isfinite(got).all()
        assert (got.float() - want).norm() / want.norm() < 3e-2


@cuda
@pytest.mark.parametrize('impl', ['chunked', 'autograd', 'fused'])
def test_cuda_memory_has_no_quadratic_term(impl):
    # 16x56x56 = 50176 positions: one N x N float32 tensor would take
    # 9.4 GiB; the caching allocator's peak is exact on the GPU.
    block = randomize(A2Block(64, impl=impl)).cuda()
    x = torch.randn(1, 64, 16, 56, 56, device='cuda', requires_grad=True)
    block(x).sum().backward()  # warm-up
    x.grad = None
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    before = torch.cuda.memory_allocated()
    block(x).sum().backward()
    torch.cuda.synchronize()
    peak = torch.cuda.max_memory_allocated() - before
    # output, dX and the (2n, N) projections: a few times the input's size
    assert peak < 8 * x.numel() * x.element_size(), peak / 2**20


@pytest.mark.parametrize('impl,expected', [('auto', 1), ('chunked', 1),
                                           ('autograd', 0)])
def test_impl_chooses_the_training_pass_on_cpu(chunked_calls, impl,
                                               expected):
    block = A2Block(8, impl=impl)
    block(torch.randn(1, 8, 4))
    assert len(chunked_calls) == expected
    assert f"impl='{impl}'" in repr(block)


def test_impl_autograd_matches_chunked():
    x = torch.randn(2, 16, 3, 4, 5, dtype=torch.float64, requires_grad=True)
    results = []
    for impl in ('chunked', 'autograd'):
        torch.manual_seed(0)
        block = randomize(A2Block(16, impl=impl, chunk_size=7)).double()
        out = block(x)
        results.append([out] + list(torch.autograd.grad(
            out.square().sum(), [x] + list(block.parameters()))))
    for a, b in zip(*results):
        torch.testing.assert_close(a, b)


@cuda
def test_cuda_auto_trains_with_fused_pass(chunked_calls, fused_calls):
    x = torch.randn(1, 8, 4, device='cuda', requires_grad=True)
    A2Block(8).cuda()(x)
    assert chunked_calls == [] and fused_calls == [1]
    A2Block(8, impl='chunked').cuda()(x)
    assert chunked_calls == [1] and fused_calls == [1]


@pytest.mark.parametrize('norm_cfg', [None, dict(type='BN3d')])
@pytest.mark.parametrize('impl', ['chunked', 'autograd'])
def test_compiled_training_step_matches_eager(impl, norm_cfg, chunked_calls):
    """Dynamo and AOTAutograd (the graphs inductor receives, without code
    generation), for both training passes."""
    block = randomize(A2Block(16, impl=impl, norm_cfg=norm_cfg,
                              chunk_size=16)).train()
    x = torch.randn(2, 16, 3, 4, 5)
    check_compiled_matches_eager(block, x, 'aot_eager', 1e-5)
    assert len(chunked_calls) == (impl == 'chunked')  # the eager step only


@pytest.mark.slow
def test_inductor_training_step_matches_eager():
    """The default backend (MMEngine's ``compile=True``), generated C++
    kernels included; one tiny compile for both passes (same graph)."""
    x = torch.randn(2, 8, 2, 3, 3)
    for impl in ('chunked', 'autograd'):
        block = randomize(A2Block(8, impl=impl)).train()
        check_compiled_matches_eager(block, x, 'inductor', 1e-5)
