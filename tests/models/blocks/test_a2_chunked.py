"""The 'chunked' pass against the 'autograd' pass
(a2mm/models/blocks/a2_chunked.py)."""
import pytest
import torch

from a2mm.models.blocks.a2_chunked import a2_chunked
from tests.helpers.a2_block import check_pass_matches_autograd, random_weights


@pytest.mark.parametrize('residual', [True, False])
@pytest.mark.parametrize('chunk', [1000, 16, 7])
def test_chunked_pass_matches_autograd_pass(residual, chunk):
    weights = random_weights(12, m=4, n=5)
    x = torch.randn(3, 12, 40, requires_grad=True)
    check_pass_matches_autograd(a2_chunked, x, weights, residual, 1e-4, 1e-5,
                                chunk=chunk)


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs CUDA')
@pytest.mark.parametrize('residual', [True, False])
def test_cuda_chunked_pass_matches_autograd_pass(residual):
    weights = random_weights(64, m=16, n=16, device='cuda')
    x = torch.randn(2, 64, 4000, device='cuda', requires_grad=True)
    check_pass_matches_autograd(a2_chunked, x, weights, residual, 1e-3, 1e-4,
                                chunk=1024)
