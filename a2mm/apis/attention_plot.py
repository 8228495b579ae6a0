"""Draw A² attention maps over the frames they were computed on, as one
PNG-ready RGB grid.

Layout (all sizes in pixels, so the image size is known in advance, see
:func:`attention_grid_size`; the grid is widened when a block's title would
not fit): one panel per block, stacked vertically.
Each panel has

* a title strip of ``title_height`` naming the block, its ``n`` and the
  shape of its maps;
* a row of the frames themselves (label ``frame``);
* for each chosen descriptor ``j`` two rows:
  ``g j``, its gather map (where it pools from), and
  ``d j``, its distribution map (how strongly each position receives it;
  the label's second line gives its largest weight, ``max 0.41`` say).
  Each map is scaled by its own maximum over the whole clip, so frames can
  be compared within a row (gather weights are about ``1/N``, distribution
  weights about ``1/n``: an absolute scale would show nothing).

Columns are time steps of the block (at most ``max_frames``, evenly
spaced); each cell shows the input frame at the centre of that step, with
the map upsampled bilinearly to the frame and blended over it. A left
margin of ``label_width`` holds the row labels. Cells are ``cell_size``
high and as wide as the frames' aspect ratio makes them.
"""
from typing import List, Mapping, Optional, Sequence, Tuple, Union

import cv2
import numpy as np
import torch

from .attention import AttentionMaps

__all__ = [
    'select_descriptors', 'attention_grid_size', 'render_attention_grid',
    'save_attention_grid'
]

_FONT = cv2.FONT_HERSHEY_SIMPLEX
_TEXT = (20, 20, 20)


def select_descriptors(maps: AttentionMaps,
                       descriptors: Union[int, Sequence[int]]) -> List[int]:
    """Which descriptors of a block to draw.

    An int ``k`` picks the ``k`` descriptors that receive the most
    distribution weight over the clip (the ones most positions use),
    largest first; a sequence picks those indices.

    Args:
        maps: one sample's maps, each ``(n, *spatial)``.
        descriptors: ``k``, or explicit indices in ``[0, n)``.
    """
    n = maps.distribute.shape[0]
    if isinstance(descriptors, int):
        if descriptors < 1:
            raise ValueError(f'descriptors must be >= 1, got {descriptors}')
        mass = maps.distribute.reshape(n, -1).mean(dim=1)  # (n,)
        return torch.argsort(mass, descending=True)[:descriptors].tolist()
    bad = [j for j in descriptors if not 0 <= j < n]
    if bad:
        raise ValueError(f'descriptor indices {bad} out of range: the block '
                         f'has n={n} descriptors (0..{n - 1})')
    return list(descriptors)


def attention_grid_size(rows_per_block: Sequence[int],
                        num_columns: int,
                        cell_size: Tuple[int, int],
                        label_width: int,
                        title_height: int,
                        min_width: int = 0) -> Tuple[int, int]:
    """``(width, height)`` in pixels of a grid whose panels have the given
    numbers of image rows (``1 + 2 * descriptors`` each), ``num_columns``
    columns at most and cells of ``cell_size = (width, height)``; at least
    ``min_width`` wide (the renderer passes its widest title, so that a
    narrow grid does not cut it)."""
    cell_w, cell_h = cell_size
    width = max(label_width + num_columns * cell_w, min_width)
    height = sum(title_height + rows * cell_h for rows in rows_per_block)
    return width, height


def _overlay(frame: np.ndarray, heat: np.ndarray, alpha: float,
             cmap_name: str) -> np.ndarray:
    """Blend ``heat`` (h, w) in [0, 1], upsampled to ``frame`` (H, W, 3),
    over the frame through a colormap."""
    from matplotlib import colormaps  # here: keeps `import a2mm` light
    heat = cv2.resize(
        heat.astype(np.float32), (frame.shape[1], frame.shape[0]),
        interpolation=cv2.INTER_LINEAR)
    colour = colormaps[cmap_name](np.clip(heat, 0, 1))[..., :3] * 255
    out = (1 - alpha) * frame.astype(np.float32) + alpha * colour
    return out.clip(0, 255).astype(np.uint8)


def _put_text(img: np.ndarray, text: str, org: Tuple[int, int],
              scale: float, colour: Tuple[int, int, int] = _TEXT) -> None:
    cv2.putText(img, text, org, _FONT, scale, colour, 1, cv2.LINE_AA)


def render_attention_grid(frames: np.ndarray,
                          maps: Mapping[str, AttentionMaps],
                          descriptors: Union[int, Sequence[int]] = 4,
                          max_frames: int = 8,
                          cell_size: int = 96,
                          label_width: int = 64,
                          title_height: int = 22,
                          alpha: float = 0.55,
                          cmap: str = 'jet') -> np.ndarray:
    """Render the attention grid described in the module docstring.

    Args:
        frames: ``(T, H, W, 3)`` uint8 RGB, the frames the model saw.
        maps: block name -> one sample's maps, each ``(n, T', h, w)``
            (as returned by :func:`a2mm.apis.extract_attention`).
        descriptors: ``k`` (the ``k`` most received descriptors of each
            block) or explicit descriptor indices. Default: 4.
        max_frames: most time steps (columns) shown per block. Default: 8.
        cell_size: height of a cell in pixels. Default: 96.
        label_width: width of the row-label margin. Default: 64.
        title_height: height of each block's title strip. Default: 22.
        alpha: weight of the heat map in the blend. Default: 0.55.
        cmap: a matplotlib colormap name. Default: ``'jet'``.

    Returns:
        np.ndarray: ``(height, width, 3)`` uint8 RGB, with the size given
        by :func:`attention_grid_size`.
    """
    if frames.ndim != 4 or frames.shape[-1] != 3:
        raise ValueError('frames must be (T, H, W, 3), got shape '
                         f'{frames.shape}')
    if not maps:
        raise ValueError('no attention maps to draw')
    if max_frames < 1:
        raise ValueError(f'max_frames must be >= 1, got {max_frames}')
    num_frames, height, width = frames.shape[:3]
    cell_w = max(1, round(cell_size * width / height))
    cells = np.stack([cv2.resize(f, (cell_w, cell_size)) for f in frames])

    panels: List[Tuple[str, AttentionMaps, List[int], np.ndarray]] = []
    for name, block_maps in maps.items():
        if block_maps.gather.dim() != 4:
            raise ValueError(f'maps of {name} must be (n, T, h, w), got '
                             f'{tuple(block_maps.gather.shape)}')
        steps = block_maps.gather.shape[1]
        columns = np.unique(
            np.linspace(0, steps - 1, min(steps, max_frames)).round()
        ).astype(int)
        panels.append((name, block_maps,
                       select_descriptors(block_maps, descriptors), columns))
    scale = max(0.3, min(0.5, cell_size / 200))
    titles = [
        f'{name}  (n={m.gather.shape[0]}, maps '
        f'{"x".join(map(str, m.gather.shape[1:]))})'
        for name, m, _, _ in panels
    ]
    title_w = max(
        cv2.getTextSize(t, _FONT, scale, 1)[0][0] for t in titles) + 8
    num_columns = max(len(p[3]) for p in panels)
    grid_w, grid_h = attention_grid_size(
        [1 + 2 * len(p[2]) for p in panels], num_columns,
        (cell_w, cell_size), label_width, title_height, title_w)
    grid = np.full((grid_h, grid_w, 3), 255, np.uint8)

    top = 0
    for title, (_, block_maps, chosen, columns) in zip(titles, panels):
        steps = block_maps.gather.shape[1]
        _put_text(grid, title, (4, top + title_height - 7), scale)
        top += title_height
        # Input frame at the centre of each block time step.
        frame_ids = [
            min(num_frames - 1, int((t + 0.5) * num_frames / steps))
            for t in columns
        ]
        rows: List[Tuple[List[str], Optional[np.ndarray]]] = [(['frame'],
                                                                None)]
        gather = block_maps.gather.float().numpy()
        dist = block_maps.distribute.float().numpy()
        for j in chosen:
            rows.append(([f'g {j}'], gather[j] / max(gather[j].max(), 1e-12)))
            peak = float(dist[j].max())
            rows.append(([f'd {j}', f'max {peak:.2f}'],
                         dist[j] / max(peak, 1e-12)))  # (T', h, w)
        for labels, heat in rows:
            for i, label in enumerate(labels):
                _put_text(grid, label,
                          (4, top + cell_size // 2 + 5 + 16 * i),
                          scale * (0.8 if i else 1.0))
            for col, (t, f) in enumerate(zip(columns, frame_ids)):
                left = label_width + col * cell_w
                cell = cells[f] if heat is None else _overlay(
                    cells[f], heat[t], alpha, cmap)
                grid[top:top + cell_size, left:left + cell_w] = cell
                if heat is None:
                    _put_text(grid, f't{f}', (left + 3, top + 14), scale,
                              (255, 255, 255))
            top += cell_size
    return grid


def save_attention_grid(path: str, frames: np.ndarray,
                        maps: Mapping[str, AttentionMaps],
                        **kwargs) -> Tuple[int, int]:
    """Render with :func:`render_attention_grid` (``kwargs`` are its
    options) and write a PNG to ``path``. Returns ``(width, height)``."""
    grid = render_attention_grid(frames, maps, **kwargs)
    if not cv2.imwrite(path, cv2.cvtColor(grid, cv2.COLOR_RGB2BGR)):
        raise OSError(f'could not write image {path}')
    return grid.shape[1], grid.shape[0]
