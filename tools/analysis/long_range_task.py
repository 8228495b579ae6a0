"""A small long-range task: does one A2Block let a tiny 3D CNN relate two
objects that no convolution sees together?

Each clip (3 x T x 16 x 16, noisy background) holds two 3x3 squares, one in
the left quarter and one in the right quarter of the frame (at least 8
pixels apart), each of one of ``num_colors`` colours. The label says whether
the two squares have the same colour.

The baseline, three convolutions (receptive field 5x5) and global average
pooling into a linear classifier, sums local features: a clip with two
different colours a, b then sits exactly half-way between the clips "a, a"
and "b, b", so no linear classifier separates the classes and it stays at
chance. The same network with one A2Block before its last 1x1 convolution
gathers both squares into global descriptors and distributes them to every
position, which is what the task needs.

Usage::

    python tools/analysis/long_range_task.py            # prints accuracies
    python tools/analysis/long_range_task.py --steps 1000 --seed 1
"""
import argparse
from typing import Dict, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

COLORS = torch.tensor([[1., 0., 0.], [0., 1., 0.], [0., 0., 1.],
                       [1., 1., 0.]])


def _square_masks(batch: int, size: int, x_lo: int, width: int,
                  gen: torch.Generator) -> torch.Tensor:
    """(batch, size, size) masks of one 3x3 square per sample, its left edge
    in [x_lo, x_lo + width - 3]."""
    y = torch.randint(0, size - 2, (batch, 1, 1), generator=gen)
    x = x_lo + torch.randint(0, width - 2, (batch, 1, 1), generator=gen)
    rows = torch.arange(size)[None, :, None]
    cols = torch.arange(size)[None, None, :]
    return ((rows >= y) & (rows < y + 3) & (cols >= x) &
            (cols < x + 3)).float()


def make_batch(batch: int, gen: torch.Generator, frames: int = 4,
               size: int = 16,
               num_colors: int = 3) -> Tuple[torch.Tensor, torch.Tensor]:
    """Clips (batch, 3, frames, size, size) and labels (batch,) in {0, 1}."""
    clips = 0.1 * torch.randn(batch, 3, frames, size, size, generator=gen)
    labels = torch.randint(0, 2, (batch, ), generator=gen)
    first = torch.randint(0, num_colors, (batch, ), generator=gen)
    shift = torch.randint(1, num_colors, (batch, ), generator=gen)
    second = torch.where(labels == 1, first, (first + shift) % num_colors)
    quarter = size // 4
    for color, x_lo in ((first, 0), (second, size - quarter)):
        mask = _square_masks(batch, size, x_lo, quarter, gen)  # (B, H, W)
        clips += COLORS[color][:, :, None, None, None] * mask[:, None, None]
    return clips, labels


class TinyNet(nn.Module):
    """conv3-conv3-[A2Block]-conv1, global average pooling, linear."""

    def __init__(self, with_a2: bool, channels: int = 16) -> None:
        super().__init__()
        import a2mm  # noqa: F401  (registers A2Block)
        from mmaction.registry import MODELS
        self.conv1 = nn.Conv3d(3, channels, 3, padding=1)
        self.conv2 = nn.Conv3d(channels, channels, 3, padding=1)
        self.a2 = (MODELS.build(dict(type='A2Block', in_channels=channels))
                   if with_a2 else nn.Identity())
        self.conv3 = nn.Conv3d(channels, channels, 1)
        self.fc = nn.Linear(channels, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.conv2(F.relu(self.conv1(x))))
        x = F.relu(self.conv3(self.a2(x)))
        return self.fc(x.mean(dim=(2, 3, 4)))


def train_and_evaluate(with_a2: bool, steps: int = 600, batch: int = 64,
                       seed: int = 0, eval_size: int = 1000) -> float:
    """Train one TinyNet, return its accuracy on held-out clips."""
    torch.manual_seed(seed)
    model = TinyNet(with_a2)
    optim = torch.optim.Adam(model.parameters(), lr=3e-3)
    gen = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        clips, labels = make_batch(batch, gen)
        loss = F.cross_entropy(model(clips), labels)
        optim.zero_grad()
        loss.backward()
        optim.step()
    test_gen = torch.Generator().manual_seed(10_000 + seed)
    clips, labels = make_batch(eval_size, test_gen)
    with torch.no_grad():
        pred = model(clips).argmax(dim=1)
    return (pred == labels).float().mean().item()


def compare(steps: int = 600, seed: int = 0) -> Dict[str, float]:
    return {
        'baseline': train_and_evaluate(False, steps, seed=seed),
        'A2Block': train_and_evaluate(True, steps, seed=seed),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--steps', type=int, default=600)
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args()
    acc = compare(args.steps, args.seed)
    print('| model | held-out accuracy (chance 0.50) |')
    print('|---|---|')
    for name, value in acc.items():
        print(f'| tiny 3D CNN {"+ A2Block" if name == "A2Block" else ""} '
              f'| {value:.3f} |')
    print(f'A2Block - baseline: {acc["A2Block"] - acc["baseline"]:+.3f}')


if __name__ == '__main__':
    main()
