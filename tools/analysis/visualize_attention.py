"""Draw where the A² blocks of a recognizer look, for one video.

Runs the model on the video (through its config's ``test_pipeline``) and
writes a PNG grid: for each chosen A² block, the frames, then for each
chosen descriptor its gather map (where it pools from) and its distribution
map (how strongly each position receives it), overlaid on the frames. See
``docs/attention_maps.md``; from Python use :mod:`a2mm.apis`
(``extract_attention`` and ``save_attention_grid``).

Example::

    python tools/analysis/visualize_attention.py \\
        configs/a2_r50_kinetics.py work_dirs/a2_r50_kinetics/best.pth \\
        demo.mp4 --out attention.png --blocks backbone.layer3.1.a2_block \\
        --descriptors 4 --max-frames 8
"""
import argparse
import sys
from typing import List, Optional

from mmengine.config import DictAction

from a2mm.apis import (extract_attention, find_a2_blocks, init_model,
                       save_attention_grid)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Write a PNG grid of the A² gather and distribution '
        'maps of a recognizer on one video')
    parser.add_argument('config', help='model config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('video', help='video file')
    parser.add_argument(
        '--out', default='attention.png', help='output PNG file')
    parser.add_argument(
        '--blocks',
        nargs='+',
        default=None,
        help='qualified names of the A² blocks to draw (default: all; '
        '--list-blocks prints them)')
    parser.add_argument(
        '--list-blocks',
        action='store_true',
        help='print the names of the A² blocks and exit')
    parser.add_argument(
        '--descriptors',
        type=int,
        default=4,
        help='draw the k most received descriptors of each block')
    parser.add_argument(
        '--descriptor-ids',
        type=int,
        nargs='+',
        default=None,
        help='draw these descriptor indices instead (in every block)')
    parser.add_argument(
        '--max-frames', type=int, default=8, help='most time steps shown')
    parser.add_argument(
        '--cell-size', type=int, default=96, help='cell height in pixels')
    parser.add_argument(
        '--alpha', type=float, default=0.55, help='heat-map opacity')
    parser.add_argument('--cmap', default='jet', help='matplotlib colormap')
    parser.add_argument('--device', default='cpu', help='e.g. cpu, cuda:0')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, key=value')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    model = init_model(args.config, args.checkpoint, args.device,
                       args.cfg_options)
    if args.list_blocks:
        for name, block in find_a2_blocks(model).items():
            print(f'{name}: {block.extra_repr()}')
        return
    frames, maps = extract_attention(model, args.video, args.blocks)
    descriptors = args.descriptor_ids or args.descriptors
    width, height = save_attention_grid(
        args.out,
        frames,
        maps,
        descriptors=descriptors,
        max_frames=args.max_frames,
        cell_size=args.cell_size,
        alpha=args.alpha,
        cmap=args.cmap)
    print(f'blocks: {", ".join(maps)}')
    print(f'wrote {args.out} ({width}x{height} pixels)')


if __name__ == '__main__':
    main(sys.argv[1:])
