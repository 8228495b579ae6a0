"""Build a recognizer from a config and a checkpoint, and classify videos.

Thin layer over MMAction2's own inference API
(:func:`mmaction.apis.init_recognizer`, :func:`mmaction.apis.
inference_recognizer`): it adds what the demo needs around it (``cfg_options``,
a CPU default, label maps, top-k lists, collecting the videos of a folder or
a list file) and nothing else.
"""
import os.path as osp
from pathlib import Path
from typing import (TYPE_CHECKING, Any, List, NamedTuple, Optional, Sequence,
                    Union)

import torch
import torch.nn as nn
from mmaction.apis import inference_recognizer, init_recognizer
from mmengine.config import Config

from a2mm.models.backbones.checkpoint_report import \
    load_checkpoint_with_report

if TYPE_CHECKING:
    from .onnx_inference import OnnxRecognizer

__all__ = [
    'VIDEO_EXTENSIONS', 'Prediction', 'load_config', 'init_model',
    'load_label_map', 'collect_videos', 'predict_topk', 'class_scores'
]

#: File suffixes :func:`collect_videos` treats as videos in a folder.
VIDEO_EXTENSIONS = ('.mp4', '.avi', '.mkv', '.mov', '.webm', '.m4v', '.mpg',
                    '.mpeg', '.flv', '.wmv')


class Prediction(NamedTuple):
    """One entry of a top-k list: class index, its name and its score."""
    index: int
    label: str
    score: float


def init_model(config: Union[str, Path, Config],
               checkpoint: Optional[str] = None,
               device: Union[str, torch.device] = 'cpu',
               cfg_options: Optional[dict] = None) -> nn.Module:
    """Build a recognizer in eval mode, optionally loading a checkpoint.

    ``Config.fromfile`` imports the config's ``custom_imports`` (e.g.
    ``['a2mm']``), so a2mm configs need nothing else. Weights (``.pth`` or
    ``.safetensors``) are loaded non-strictly with a report of what did not
    fit (:func:`~a2mm.models.backbones.checkpoint_report.
    load_checkpoint_with_report`: a missing, unexpected or wrong-shape key is
    logged, not raised). A² blocks that a plain I3D checkpoint lacks are
    reported as new blocks, initialised as identity: the model then gives
    the plain model's scores.

    Args:
        config: path of a config file, or a loaded :class:`Config`.
        checkpoint: path of a checkpoint (a dict with ``state_dict``, or a
            bare state dict). None keeps the initial weights.
        device: where the model runs. Default: ``'cpu'`` (MMAction2's
            ``init_recognizer`` defaults to ``'cuda:0'``).
        cfg_options: dotted-key overrides merged into the config, as in
            ``tools/test.py --cfg-options``.

    Returns:
        nn.Module: the recognizer, with the config at ``model.cfg``.
    """
    config = load_config(config, cfg_options)
    if checkpoint is not None and not osp.isfile(checkpoint):
        raise FileNotFoundError(f'checkpoint file not found: {checkpoint}')
    model = init_recognizer(config, None, device=device)
    if checkpoint is not None:
        load_checkpoint_with_report(model, checkpoint,
                                    revise_keys=((r'^module\.', ''), ))
    return model


def load_config(config: Union[str, Path, Config],
                cfg_options: Optional[dict] = None) -> Config:
    """A config file (or a copy of a loaded :class:`Config`) with the
    ``cfg_options`` overrides merged in."""
    if isinstance(config, (str, Path)):
        if not osp.isfile(config):
            raise FileNotFoundError(f'config file not found: {config}')
        config = Config.fromfile(str(config))
    elif not isinstance(config, Config):
        raise TypeError('config must be a path or an mmengine Config, got '
                        f'{type(config).__name__}')
    else:
        config = config.copy()
    if cfg_options:
        config.merge_from_dict(cfg_options)
    return config


def load_label_map(path: Union[str, Path]) -> List[str]:
    """Read class names, one per line (MMAction2's ``label_map_k400.txt``
    format); line ``i`` names class ``i``. Trailing blank lines are
    dropped."""
    with open(path, encoding='utf-8') as f:
        labels = [line.strip() for line in f]
    while labels and not labels[-1]:
        labels.pop()
    if not labels:
        raise ValueError(f'label map {path} has no labels')
    return labels


def collect_videos(source: Union[str, Path]) -> List[str]:
    """The videos named by ``source``.

    * a video file: that file;
    * a folder: its files whose suffix is in :data:`VIDEO_EXTENSIONS`
      (case-insensitive), sorted by name, not recursive;
    * a ``.txt`` file: one video path per line (blank lines and lines
      starting with ``#`` skipped); relative paths are taken relative to
      the list file's folder.
    """
    source = Path(source)
    if source.is_dir():
        videos = sorted(
            str(p) for p in source.iterdir()
            if p.is_file() and p.suffix.lower() in VIDEO_EXTENSIONS)
        if not videos:
            raise FileNotFoundError(
                f'no video files ({", ".join(VIDEO_EXTENSIONS)}) in folder '
                f'{source}')
        return videos
    if not source.is_file():
        raise FileNotFoundError(f'video, folder or list file not found: '
                                f'{source}')
    if source.suffix.lower() != '.txt':
        return [str(source)]
    videos = []
    with open(source, encoding='utf-8') as f:
        for lineno, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith('#'):
                continue
            path = Path(line)
            if not path.is_absolute():
                path = source.parent / path
            if not path.is_file():
                raise FileNotFoundError(
                    f'{source}, line {lineno}: video not found: {path}')
            videos.append(str(path))
    if not videos:
        raise ValueError(f'list file {source} names no videos')
    return videos


def class_scores(sample: Any) -> torch.Tensor:
    """The (num_classes,) scores of a recognizer's output sample (an
    ``ActionDataSample``, or its dict as ``tools/test.py --dump`` writes it).

    MMAction2 1.1.0 keeps them in ``pred_scores.item`` (a ``LabelData``),
    1.2.0 in ``pred_score`` (a tensor).
    """
    score = sample.get('pred_score')  # dict and BaseDataElement alike
    if score is not None:
        return score
    scores = sample.get('pred_scores')
    if scores is not None:
        return scores['item'] if isinstance(scores, dict) else scores.item
    raise KeyError(f'no pred_score / pred_scores in the sample: '
                   f'{sorted(sample.keys())}')


def predict_topk(model: Union[nn.Module, 'OnnxRecognizer'],
                 video: str,
                 k: int = 5,
                 labels: Optional[Sequence[str]] = None) -> List[Prediction]:
    """Classify one video with the model's ``test_pipeline`` and return the
    ``k`` best classes, highest score first.

    Scores are what the model's head reports after averaging the clips of
    the test pipeline (probabilities with ``average_clips='prob'``).

    Args:
        model: a recognizer from :func:`init_model`, or an exported one
            (:class:`~a2mm.apis.onnx_inference.OnnxRecognizer`).
        video: path of the video.
        k: how many classes to return (at most the number of classes).
        labels: class names; ``labels[i]`` names class ``i``. Without them
            the names are the class indices.
    """
    if k < 1:
        raise ValueError(f'k must be >= 1, got {k}')
    if isinstance(model, nn.Module):
        result = inference_recognizer(model, video)
        scores = class_scores(result).float().cpu()  # (num_classes,)
    else:
        scores = model.video_scores(video)
    if labels is not None and len(labels) != scores.numel():
        raise ValueError(
            f'the label map has {len(labels)} labels but the model predicts '
            f'{scores.numel()} classes')
    top = torch.topk(scores, min(k, scores.numel()))
    return [
        Prediction(i, labels[i] if labels is not None else str(i), s)
        for i, s in zip(top.indices.tolist(), top.values.tolist())
    ]
