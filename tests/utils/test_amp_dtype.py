"""The mixed precision dtype names (a2mm.utils.amp)."""
import pytest
import torch

from a2mm.utils.amp import resolve_amp_dtype


def test_resolve_amp_dtype():
    assert resolve_amp_dtype('bf16') is torch.bfloat16
    assert resolve_amp_dtype('float16') is torch.float16
    assert resolve_amp_dtype(None) is None
    with pytest.raises(ValueError, match="'fp8'"):
        resolve_amp_dtype('fp8')
    with pytest.raises(ValueError, match='float32'):
        resolve_amp_dtype(torch.float32)
