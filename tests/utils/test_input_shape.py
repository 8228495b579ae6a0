"""a2mm.utils.guess_input_shape: the one rule for the input of a dry or
measuring run (A2Inserted's dry run, the config check, the FLOP count)."""
import pytest
import torch.nn as nn

from a2mm.utils import guess_input_shape


class Net(nn.Module):
    """A stand-in backbone: ``conv`` first, then a layer of another rank."""

    def __init__(self, conv: nn.Module, **attrs) -> None:
        super().__init__()
        self.conv = conv
        self.head = nn.Conv1d(7, 7, 1)  # not the first: never read
        for name, value in attrs.items():
            setattr(self, name, value)


@pytest.mark.parametrize('backbone,shape', [
    (Net(nn.Conv3d(3, 8, 3)), (1, 3, 16, 112, 112)),
    (Net(nn.Conv2d(4, 8, 3)), (1, 4, 112, 112)),
    (Net(nn.Conv2d(3, 8, 3), num_segments=8), (8, 3, 112, 112)),
    (Net(nn.Conv1d(5, 8, 3)), (1, 5, 64)),
], ids=['clip', 'frames', 'tsm_segments', 'sequence'])
def test_layout_and_channels_from_the_first_convolution(backbone, shape):
    assert guess_input_shape(backbone) == shape


def test_sizes_and_layout_given():
    backbone = Net(nn.Conv3d(2, 8, 3))
    assert guess_input_shape(backbone, clip_len=4, size=(24, 32)) == \
        (1, 2, 4, 24, 32)
    assert guess_input_shape(backbone, format_shape='NCHW', size=64) == \
        (1, 2, 64, 64)
    assert guess_input_shape(Net(nn.Conv1d(5, 8, 3)), length=10) == (1, 5, 10)


def test_without_a_backbone_rgb_and_batch_one():
    assert guess_input_shape(format_shape='NCTHW', clip_len=8, size=224) == \
        (1, 3, 8, 224, 224)
    assert guess_input_shape(format_shape='NCHW') == (1, 3, 112, 112)


def test_without_a_convolution():
    backbone = nn.Sequential(nn.Linear(4, 4))
    with pytest.raises(ValueError, match='Sequential \\(no Conv1d/2d/3d'):
        guess_input_shape(backbone)
    with pytest.raises(ValueError, match='without a backbone'):
        guess_input_shape()
    assert guess_input_shape(backbone, format_shape='NCHW', size=8) == \
        (1, 3, 8, 8)
    backbone.in_channels = 6
    assert guess_input_shape(backbone, format_shape='NCHW', size=8) == \
        (1, 6, 8, 8)


def test_unknown_layout():
    with pytest.raises(ValueError, match="'NCTHW_Heatmap' has no input shape"):
        guess_input_shape(format_shape='NCTHW_Heatmap')
