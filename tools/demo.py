"""Classify videos with a trained recognizer and print the top-k labels.

MMAction2's ``demo/demo.py`` habit: config, checkpoint, video, label map.
``video`` may be one video file, a folder of videos, or a ``.txt`` file
listing one video path per line. With ``--out`` each video is also written
with its predicted labels drawn on it (``.mp4``/``.avi`` via OpenCV,
``.gif`` via Pillow).

Examples::

    python tools/demo.py configs/a2_r50_kinetics.py ckpt.pth demo.mp4 \\
        label_map_k400.txt
    python tools/demo.py CONFIG CKPT videos/ labels.txt --out out/ \\
        --out-format gif
    python tools/demo.py CONFIG CKPT demo.mp4 labels.txt --out demo_out.mp4
    python tools/demo.py CONFIG model.onnx demo.mp4 labels.txt   # onnxruntime

A checkpoint ending ``.onnx`` (from ``tools/deployment/export_onnx.py``) runs
with onnxruntime behind the config's test pipeline instead of PyTorch
(:class:`a2mm.apis.OnnxRecognizer`); the top-k is the PyTorch model's.
"""
import argparse
import os.path as osp
import sys
from typing import List, Optional

from mmengine.config import DictAction

from a2mm.apis import (OnnxRecognizer, collect_videos, init_model,
                       load_label_map, predict_topk, write_labelled_video)
from a2mm.apis.label_video import OUTPUT_SUFFIXES


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Print the top-k labels of one or more videos')
    parser.add_argument('config', help='model config file')
    parser.add_argument(
        'checkpoint',
        help='checkpoint file, or an exported .onnx file (run with '
        'onnxruntime)')
    parser.add_argument(
        'video', help='a video file, a folder of videos, or a .txt list of '
        'video paths')
    parser.add_argument('label', help='label map: one class name per line')
    parser.add_argument(
        '--topk', type=int, default=5, help='how many labels to print')
    parser.add_argument('--device', default='cpu', help='e.g. cpu, cuda:0')
    parser.add_argument(
        '--out',
        default=None,
        help='also write the video(s) with the labels drawn on: a file '
        f'ending {"/".join(OUTPUT_SUFFIXES)} (one input video), or a '
        'folder (written as <name>.<--out-format>)')
    parser.add_argument(
        '--out-format',
        default='mp4',
        choices=[s[1:] for s in OUTPUT_SUFFIXES],
        help='format of the videos written into an --out folder')
    parser.add_argument(
        '--draw-topk',
        type=int,
        default=1,
        help='how many labels to draw on the output video')
    parser.add_argument(
        '--fps', type=float, default=None, help='output frame rate')
    parser.add_argument(
        '--target-resolution',
        nargs=2,
        type=int,
        default=None,
        metavar=('W', 'H'),
        help='output size; -1 for one side keeps the aspect ratio')
    parser.add_argument(
        '--font-scale', type=float, default=0.5, help='OpenCV font scale')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, key=value')
    return parser.parse_args(argv)


def output_path(out: str, video: str, num_videos: int, fmt: str) -> str:
    """Where the labelled copy of ``video`` goes: ``out`` itself when it
    names a video file, else ``out/<video name>.<fmt>``."""
    if osp.splitext(out)[1].lower() in OUTPUT_SUFFIXES:
        if num_videos > 1:
            raise ValueError(
                f'--out {out} names one file but {num_videos} videos were '
                'given; pass a folder instead')
        return out
    stem = osp.splitext(osp.basename(video))[0]
    return osp.join(out, f'{stem}.{fmt}')


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    videos = collect_videos(args.video)
    labels = load_label_map(args.label)
    if args.checkpoint.lower().endswith('.onnx'):
        model = OnnxRecognizer(
            args.config,
            args.checkpoint,
            cfg_options=args.cfg_options,
            device=args.device)
    else:
        model = init_model(args.config, args.checkpoint, args.device,
                           args.cfg_options)
    for video in videos:
        top = predict_topk(model, video, args.topk, labels)
        print(video)
        for rank, pred in enumerate(top, 1):
            print(f'  {rank}. {pred.label}: {pred.score:.4f}')
        if args.out is not None:
            out_file = output_path(args.out, video, len(videos),
                                   args.out_format)
            lines = [f'{p.label}: {p.score:.2f}' for p in top[:args.draw_topk]]
            write_labelled_video(
                video,
                out_file,
                lines,
                fps=args.fps,
                target_resolution=args.target_resolution,
                font_scale=args.font_scale)
            print(f'  -> {out_file}')


if __name__ == '__main__':
    main(sys.argv[1:])
