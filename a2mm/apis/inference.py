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

from a2mm.datasets.annotation import load_label_map
from a2mm.datasets.video_files import VIDEO_EXTENSIONS, is_video_file
from a2mm.utils.checkpoint import (is_safetensors, load_checkpoint_file,
                                   load_weights, model_budget, read_state_dict)

if TYPE_CHECKING:
    from .onnx_inference import OnnxRecognizer

__all__ = [
    'VIDEO_EXTENSIONS', 'Prediction', 'load_config', 'init_model',
    'load_label_map', 'collect_videos', 'predict_topk', 'class_scores',
    'class_label'
]


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
    ``['a2mm']``), so a2mm configs need nothing else. The model is built
    first; the checkpoint (``.pth``, or ``.safetensors``) is then read by
    :func:`a2mm.utils.checkpoint.load_checkpoint_file` within
    :func:`~a2mm.utils.checkpoint.model_budget` of that model (a file that
    declares more is refused before it is read) and compared with the
    model by :func:`~a2mm.utils.checkpoint.load_weights` with the policy
    ``'error-if-none-fit'``: one that fits none of the model's weights is
    refused, a partial fit is loaded with a ``UserWarning`` that lists the
    missing, unexpected and wrong-shape keys. A² blocks that a plain I3D
    checkpoint lacks are reported (INFO) as new blocks, initialised as
    identity: the model then gives the plain model's scores.

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

    Raises:
        CheckpointMismatchError: the checkpoint holds no weight of the
            model (message: the mismatch table).
        a2mm.utils.checkpoint.CheckpointLoadError: the file is refused.
    """
    config = load_config(config, cfg_options)
    model = init_recognizer(config, None, device=device)
    if checkpoint is not None:
        # within what a checkpoint of this model may declare: a file that
        # claims more is refused before it is read
        budget = model_budget(model)
        if is_safetensors(str(checkpoint)):
            state_dict = read_state_dict(str(checkpoint), budget)
        else:
            state_dict = load_checkpoint_file(checkpoint, 'cpu', budget)
            state_dict = state_dict.get('state_dict', state_dict)
        load_weights(model, state_dict, source=str(checkpoint),
                     policy='error-if-none-fit')
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
            if p.is_file() and is_video_file(p.name))
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


def class_label(sample: Any) -> int:
    """The true class of a recognizer's output sample (an
    ``ActionDataSample``, or its dict as ``tools/test.py --dump`` writes it).

    MMAction2 1.1.0 keeps it in ``gt_labels.item`` (a ``LabelData``),
    1.2.0 in ``gt_label`` (a tensor).
    """
    label = sample.get('gt_label')  # dict and BaseDataElement alike
    if label is None:
        labels = sample.get('gt_labels')
        if labels is None:
            raise KeyError(f'no gt_label / gt_labels in the sample: '
                           f'{sorted(sample.keys())}')
        label = labels['item'] if isinstance(labels, dict) else labels.item
    return int(torch.as_tensor(label).reshape(-1)[0])


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
