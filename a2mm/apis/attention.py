"""Read the two attention maps of every A² block while a model runs.

For a block input ``X`` with ``N`` positions (A2Block's equations, see
:mod:`a2mm.models.blocks.a2_block`):

* gather maps ``softmax_N(theta(X))``, ``(B, n, N)``: for each of the ``n``
  descriptors, where in the clip it pools its content from (each map sums
  to 1 over the positions);
* distribution maps ``softmax_n(rho(X))``, ``(B, n, N)``: at each position,
  how strongly it receives each descriptor (sums to 1 over the ``n``
  descriptors).

The maps are recomputed here from the block's input, captured by a forward
pre-hook, and the block's public parameters: the theta and rho rows of
``in_proj_weight`` (:meth:`A2Block.weights`), plus ``rho_bias``
(theta's bias would cancel in the softmax over positions). The block's own
forward is not touched, so the model's output is unchanged.
"""
from contextlib import AbstractContextManager
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.dataset import Compose, pseudo_collate
from mmengine.registry import init_default_scope

from a2mm.models.blocks.a2_block import A2Block

__all__ = [
    'AttentionMaps', 'a2_attention_maps', 'find_a2_blocks',
    'AttentionRecorder', 'extract_attention'
]


class AttentionMaps(NamedTuple):
    """The two softmax maps of one A² block call.

    Both have shape ``(B, n, *spatial)``, the block input's batch and
    spatial shape with the ``n`` descriptors in place of the channels.
    ``gather`` sums to 1 over the spatial positions of each ``(b, j)``;
    ``distribute`` sums to 1 over ``j`` at each position.
    """
    gather: torch.Tensor
    distribute: torch.Tensor


@torch.no_grad()
def a2_attention_maps(block: A2Block, x: torch.Tensor) -> AttentionMaps:
    """Gather and distribution maps of ``block`` for its input ``x``.

    Args:
        block: an :class:`A2Block`.
        x: the block's input, ``(B, C, *spatial)``.

    Returns:
        AttentionMaps: float32 maps on ``x``'s device, each
        ``(B, n, *spatial)``.
    """
    if not isinstance(block, A2Block):
        raise TypeError(f'expected an A2Block, got {type(block).__name__}')
    batch, channels, *spatial = x.shape
    n = block.num_descriptors
    if channels != block.in_channels:
        raise ValueError(f'A2Block expects {block.in_channels} input '
                         f'channels, got input shape {tuple(x.shape)}')
    weights = block.weights()
    x_cn = x.float().reshape(batch, channels, -1)  # (B, C, N)
    theta = torch.matmul(weights.theta.float(), x_cn)  # (B, n, N)
    rho = torch.matmul(weights.rho.float(), x_cn)  # (B, n, N)
    rho = rho + block.rho_bias.float()[:, None]
    gather = F.softmax(theta, dim=-1)  # over the N positions
    dist = F.softmax(rho, dim=1)  # over the n descriptors
    return AttentionMaps(
        gather.reshape(batch, n, *spatial), dist.reshape(batch, n, *spatial))


def find_a2_blocks(model: nn.Module) -> Dict[str, A2Block]:
    """Every :class:`A2Block` in ``model`` by qualified module name, in
    ``named_modules`` (forward-definition) order."""
    return {
        name: module
        for name, module in model.named_modules()
        if isinstance(module, A2Block)
    }


class AttentionRecorder(AbstractContextManager):
    """Record the attention maps of chosen A² blocks during forward passes.

    Example::

        with AttentionRecorder(model) as rec:
            model.test_step(data)
        rec.maps['backbone.layer3.1.a2_block']  # AttentionMaps (B, n, T, H, W)

    Args:
        model: any module containing :class:`A2Block` s.
        names: qualified names of the blocks to record (see
            :func:`find_a2_blocks`); None records all of them.
        to_cpu: move the maps to the CPU as they are recorded.

    Attributes:
        maps (dict[str, AttentionMaps]): maps of the latest call of each
            recorded block (a later forward pass overwrites them).
    """

    def __init__(self,
                 model: nn.Module,
                 names: Optional[Sequence[str]] = None,
                 to_cpu: bool = True) -> None:
        blocks = find_a2_blocks(model)
        if not blocks:
            raise ValueError(
                f'{type(model).__name__} contains no A2Block to record')
        if names is None:
            names = list(blocks)
        unknown = [name for name in names if name not in blocks]
        if unknown:
            raise KeyError(f'no A2Block named {unknown} in the model; its A2 '
                           f'blocks are {list(blocks)}')
        self.blocks = {name: blocks[name] for name in names}
        self.to_cpu = to_cpu
        self.maps: Dict[str, AttentionMaps] = {}
        self._handles: List[torch.utils.hooks.RemovableHandle] = []

    def _hook(self, name: str):

        def hook(block: nn.Module, args: Tuple) -> None:
            maps = a2_attention_maps(block, args[0].detach())
            if self.to_cpu:
                maps = AttentionMaps(*(t.cpu() for t in maps))
            self.maps[name] = maps

        return hook

    def __enter__(self) -> 'AttentionRecorder':
        self.maps = {}
        for name, block in self.blocks.items():
            self._handles.append(
                block.register_forward_pre_hook(self._hook(name)))
        return self

    def __exit__(self, *exc_info) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []


def _frames_of(inputs: torch.Tensor) -> np.ndarray:
    """The frames of the first view of a packed pipeline ``inputs``:
    ``(V, C, T, H, W)`` (3D models) gives view 0's ``T`` frames; ``(B, C, H,
    W)`` (2D models: segments x views) gives all ``B`` frames. Returns
    ``(T, H, W, 3)`` uint8, in the pipeline's channel order (RGB for the
    decord/OpenCV pipelines)."""
    if inputs.dim() == 5:
        frames = inputs[0].permute(1, 2, 3, 0)  # (T, H, W, C)
    elif inputs.dim() == 4:
        frames = inputs.permute(0, 2, 3, 1)  # (B, H, W, C)
    else:
        raise ValueError('expected pipeline inputs of shape (V, C, T, H, W) '
                         f'or (B, C, H, W), got {tuple(inputs.shape)}')
    return frames.float().clamp(0, 255).to(torch.uint8).cpu().numpy()


def _first_sample(maps: AttentionMaps) -> AttentionMaps:
    """Maps of a 3D block reduced to the first view, ``(n, T, H, W)``; maps
    of a 2D block with the batch (frames) read as time, ``(n, B, H, W)``."""
    if maps.gather.dim() == 5:  # (B, n, T, H, W)
        return AttentionMaps(maps.gather[0], maps.distribute[0])
    if maps.gather.dim() == 4:  # (B, n, H, W), B = frames
        return AttentionMaps(*(t.transpose(0, 1) for t in maps))
    raise ValueError('attention maps of a 1D (sequence) block cannot be laid '
                     f'over frames; shape {tuple(maps.gather.shape)}')


def extract_attention(
    model: nn.Module,
    video: Union[str, dict],
    names: Optional[Sequence[str]] = None,
) -> Tuple[np.ndarray, Dict[str, AttentionMaps]]:
    """Run a recognizer on one video and return what its A² blocks attend
    to, next to the frames it saw.

    The video goes through the model's ``cfg.test_pipeline``, as in
    :func:`mmaction.apis.inference_recognizer`.

    Args:
        model: a recognizer from :func:`a2mm.apis.init_model`.
        video: a video path, or a pipeline input dict.
        names: A² block names to record; None: all.

    Returns:
        frames: ``(T, H, W, 3)`` uint8, the first view after the test
            pipeline (its crop and resize), in the pipeline's channel order.
        maps: block name -> :class:`AttentionMaps` of that view, each
            ``(n, T', H', W')`` at the block's own resolution. For 2D
            (frame-level) models the frames of every view are stacked on
            the time axis.
    """
    cfg = model.cfg
    init_default_scope(cfg.get('default_scope', 'mmaction'))
    pipeline = Compose(cfg.test_pipeline)
    if isinstance(video, str):
        data = dict(filename=video, label=-1, start_index=0, modality='RGB')
    else:
        data = dict(video)
    data = pipeline(data)
    frames = _frames_of(data['inputs'])
    with AttentionRecorder(model, names) as recorder, torch.no_grad():
        model.test_step(pseudo_collate([data]))
    return frames, {
        name: _first_sample(maps)
        for name, maps in recorder.maps.items()
    }
