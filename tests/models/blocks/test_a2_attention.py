"""The operator's interface: its weights, and the dispatch that picks a pass
(a2mm/models/blocks/a2_attention.py, a2_weights.py)."""
from types import SimpleNamespace

import pytest
import torch

from a2mm.models import A2Block
from a2mm.models.blocks import a2_fused
from a2mm.models.blocks.a2_attention import (_even_chunk, a2_attention,
                                             choose_pass)
from a2mm.models.blocks.a2_weights import A2Weights
from tests.helpers.a2_block import randomize, random_weights


def test_sizes_come_from_the_shapes():
    weights = random_weights(12, m=3, n=5)
    assert (weights.m, weights.n) == (3, 5)
    assert weights.phi.shape == (3, 12) and weights.rho.shape == (5, 12)
    weights.check()


def test_check_refuses_swapped_sizes():
    w = random_weights(8, m=3, n=2)  # w_in has 3 + 2*2 = 7 rows
    swapped = w._replace(rho_bias=torch.zeros(3), w_out=torch.zeros(8, 2))
    with pytest.raises(ValueError, match=r'w_in must have shape \(8, 8\) '
                       r'\(m \+ 2n = 2 \+ 2\*3'):
        swapped.check()
    with pytest.raises(ValueError, match='phi_bias must have shape'):
        w._replace(phi_bias=torch.zeros(4)).check()
    with pytest.raises(ValueError, match='w_in must have shape'):
        a2_attention(torch.randn(1, 8, 4), swapped, residual=True)


def test_operator_takes_the_weights_and_keywords():
    block = randomize(A2Block(8))
    x = torch.randn(1, 8, 6)
    with pytest.raises(TypeError):
        a2_attention(x, block.weights(), True)
    torch.testing.assert_close(
        a2_attention(x, block.weights(), residual=True), block(x), rtol=0,
        atol=0)


@pytest.mark.parametrize('impl', ['chunked', 'autograd'])
def test_residual_off_returns_y_alone(impl):
    weights = random_weights(8, m=3, n=4)
    x = torch.randn(2, 8, 10, requires_grad=True)
    with_x = a2_attention(x, weights, residual=True, impl=impl)
    alone = a2_attention(x, weights, residual=False, impl=impl)
    torch.testing.assert_close(alone + x, with_x)


def test_autocast_residual_comes_back_in_x_dtype():
    # a float32 input under bf16 autocast: Y in bf16, x + Y in float32
    weights = random_weights(8, m=3, n=4)
    x = torch.randn(2, 8, 10)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        alone = a2_attention(x, weights, residual=False)
        with_x = a2_attention(x, weights, residual=True)
    assert alone.dtype == torch.bfloat16 and with_x.dtype == torch.float32
    torch.testing.assert_close(with_x, x + alone.float())


@pytest.mark.parametrize('impl,grad,expected', [
    ('auto', True, 'chunked'), ('auto', False, 'autograd'),
    ('chunked', True, 'chunked'), ('chunked', False, 'autograd'),
    ('autograd', True, 'autograd')])
def test_choose_pass_on_cpu(impl, grad, expected):
    # 'auto' never picks the fused pass on the CPU, even where Triton's
    # interpreter could run the kernels (the suite without a GPU)
    weights = random_weights(8, m=2, n=2)
    x = torch.randn(1, 8, 4)
    with torch.set_grad_enabled(grad):
        assert choose_pass(impl, x, weights, torch.float32) == expected


def test_weight_gradients_alone_take_the_training_pass():
    # the first block of a network gets an input without gradient
    weights = random_weights(8, m=2, n=2)
    assert choose_pass('auto', torch.randn(1, 8, 4), weights,
                       torch.float32) == 'chunked'


def test_fused_unavailable_says_why(monkeypatch):
    monkeypatch.setattr(a2_fused, 'unavailable_reason',
                        lambda device: 'Triton does not import (test)')
    weights = random_weights(8, m=2, n=2)
    with pytest.raises(RuntimeError, match="impl='fused' cannot run on cpu: "
                       'Triton does not import'):
        choose_pass('fused', torch.randn(1, 8, 4), weights, torch.float32)


def test_fused_says_where_triton_cannot_run(monkeypatch):
    compiled = SimpleNamespace(INTERPRETED=False)  # kernels for a GPU
    monkeypatch.setattr(a2_fused, '_import_kernels', lambda: (compiled, None))
    assert 'CUDA devices, not meta' in a2_fused.unavailable_reason(
        torch.device('meta'))
    assert 'only in its interpreter' in a2_fused.unavailable_reason(
        torch.device('cpu'))
    monkeypatch.setattr(a2_fused, '_import_kernels',
                        lambda: (None, "No module named 'triton'"))
    assert a2_fused.unavailable_reason(torch.device('cpu')) == (
        "Triton does not import (No module named 'triton')")
    interpreted = SimpleNamespace(INTERPRETED=True)
    monkeypatch.setattr(a2_fused, '_import_kernels',
                        lambda: (interpreted, None))
    assert a2_fused.unavailable_reason(torch.device('cpu')) is None


def test_impl_names_are_checked():
    with pytest.raises(ValueError, match=r"impl must be one of \('auto', "
                       r"'chunked', 'autograd', 'fused'\), got 'flash'"):
        choose_pass('flash', torch.randn(1, 8, 4),
                    random_weights(8, m=2, n=2), torch.float32)


@pytest.mark.parametrize('num_pos,chunk,expected', [(6272, 4096, 3136),
                                                    (40, 16, 14),
                                                    (40, 40, 40),
                                                    (7, 4096, 7)])
def test_even_chunks(num_pos, chunk, expected):
    assert _even_chunk(num_pos, chunk) == expected


def test_weights_tuple_is_the_block_parameters():
    block = A2Block(8)
    weights = block.weights()
    assert isinstance(weights, A2Weights)
    assert [w.data_ptr() for w in weights] == [
        p.data_ptr() for p in (block.in_proj_weight, block.phi_bias,
                               block.rho_bias, block.out_proj_weight,
                               block.out_proj_bias)]
