"""A² in one MMAction2 recognition config, measured: what
``tools/analysis/zoo_sweep.py`` runs for each config of MMAction2's model zoo
(the configs installed in ``mmaction/.mim/configs/recognition``).

For one config (:func:`sweep_config`): the recognizer is built as the
config says, with nothing downloaded (:func:`without_downloads`), once as is
and once with its backbone wrapped in
:class:`~a2mm.models.backbones.A2Inserted` at the family's default placement
(``stages='default'``, :mod:`~a2mm.models.backbones.placement`). The A²
model takes the plain model's weights; both run on the same small input
(:func:`small_input`, fitted to the model: a few frames of 64x64 where the
backbone takes any size, a transformer's position embeddings rebuilt for a
small clip), and the row records:

- ``identity``: the class scores of both, in eval mode, before training:
  ``max_abs_diff`` (the A² blocks start as identity: 0);
- ``trained``: one SGD step of each (loss, backward, step);
- ``step_ratio``: median time of a training step with A² / without, the two
  models timed alternately in the same process;
- parameters and FLOPs (:func:`a2mm.apis.complexity.count_flops`, on the
  small input, one view) with and without A².

A config whose model needs a package that a2mm does not install (a TSN
backbone from torchvision, timm or mmcls/mmpretrain; TIN's ``tin_shift``,
compiled in full mmcv only) gets the status ``needs <package>``.
"""
import inspect
import os
import os.path as osp
import random
import statistics
import time
from typing import Any, Dict, List, Optional, Tuple

import numpy as np
import torch
import torch.nn as nn
from mmaction.registry import MODELS
from mmengine.analysis import parameter_count
from mmengine.config import Config, ConfigDict
from mmengine.registry import init_default_scope

from .complexity import count_flops

__all__ = [
    'FIELDS', 'zoo_root', 'recognition_configs', 'without_downloads',
    'needed_package', 'small_input', 'with_a2', 'scores', 'sweep_config'
]

#: columns of a sweep row, in order
FIELDS = ('family', 'config', 'status', 'reason', 'backbone', 'a2_blocks',
          'input', 'params_m', 'params_added_m', 'gflops', 'gflops_added',
          'step_ratio', 'max_abs_diff', 'seconds')

#: packages a2mm does not install, by the prefix of a backbone ``type``
_PACKAGE_PREFIXES = {'torchvision.': 'torchvision', 'timm.': 'timm',
                     'mmcls.': 'mmcls', 'mmpretrain.': 'mmpretrain'}


def zoo_root() -> str:
    """``recognition/`` of the configs shipped in the installed MMAction2
    wheel (``mmaction/.mim/configs``)."""
    import mmaction
    return osp.join(osp.dirname(mmaction.__file__), '.mim', 'configs',
                    'recognition')


def recognition_configs(root: Optional[str] = None) -> List[Tuple[str, str]]:
    """``(family, path)`` of every config under ``root`` (default:
    :func:`zoo_root`), the family being its first folder, sorted."""
    root = root or zoo_root()
    found = []
    for folder, _, files in os.walk(root):
        for name in files:
            if name.endswith('.py') and not name.startswith('_'):
                path = osp.join(folder, name)
                family = osp.relpath(path, root).split(os.sep)[0]
                found.append((family, path))
    return sorted(found)


def without_downloads(cfg: Config) -> Config:
    """``cfg`` with nothing to download: every ``pretrained`` (also in
    nested backbones and pathways) and ``pretrained_type`` None,
    ``pretrained2d`` and ``clip_pretrained`` False, ``Pretrained`` init
    configs dropped (the class's default init instead), ``load_from``
    None. Edits and returns ``cfg``."""

    def strip(node: Any) -> None:
        if isinstance(node, dict):
            for flag in ('pretrained2d', 'clip_pretrained'):
                if flag not in node and _takes(node.get('type'), flag):
                    # defaults True: ResNetTSM then loads `pretrained` even
                    # when it is None, UniFormerV2 asserts it is given
                    node[flag] = False
            for key in list(node):
                if key in ('pretrained', 'pretrained_type'):
                    # MViT's pretrained_type='maskfeat' loads its checkpoint
                    node[key] = None
                elif key in ('pretrained2d', 'clip_pretrained'):
                    node[key] = False
                elif key == 'init_cfg' and _is_pretrained(node[key]):
                    # the class's default init instead (MViT reads its
                    # init_cfg as a dict)
                    kept = [i for i in node[key] if not _is_pretrained(i)] \
                        if isinstance(node[key], (list, tuple)) else []
                    if kept:
                        node[key] = kept
                    else:
                        del node[key]
                else:
                    strip(node[key])
        elif isinstance(node, (list, tuple)):
            for item in node:
                strip(item)

    strip(cfg.model)
    cfg.load_from = None
    return cfg


def _takes(kind: Any, argument: str) -> bool:
    """Whether the registered model ``kind`` takes ``argument``."""
    if not isinstance(kind, str):
        return False
    try:
        cls = MODELS.get(kind)
    except Exception:  # noqa: BLE001 (an unknown or unimportable type)
        return False
    return cls is not None and argument in inspect.signature(
        cls.__init__).parameters


def _default(kind: Any, argument: str) -> Any:
    """The default of ``argument`` of the registered model ``kind``, or
    None (ResNetTSM's ``num_segments=8`` when a config leaves it out)."""
    if not _takes(kind, argument):
        return None
    default = inspect.signature(
        MODELS.get(kind).__init__).parameters[argument].default
    return None if default is inspect.Parameter.empty else default


def _is_pretrained(init_cfg: Any) -> bool:
    items = init_cfg if isinstance(init_cfg, (list, tuple)) else [init_cfg]
    return any(isinstance(i, dict) and i.get('type') == 'Pretrained'
               for i in items)


def needed_package(cfg: Config) -> Optional[str]:
    """The package a2mm does not install that ``cfg``'s backbone comes from
    (``type='torchvision.densenet161'``...), when it is not importable."""
    kind = str(cfg.model.get('backbone', {}).get('type', ''))
    for prefix, package in _PACKAGE_PREFIXES.items():
        if kind.startswith(prefix):
            try:
                __import__(package)
            except ImportError:
                return package
    return None


def _train_frames(cfg: Config) -> int:
    """Frames per sample of the train pipeline (``clip_len * num_clips``),
    1 without a SampleFrames."""
    pipeline = cfg.get('train_dataloader', {}).get('dataset', {}).get(
        'pipeline', [])
    for step in pipeline:
        # SampleFrames, DenseSampleFrames, UntrimmedSampleFrames
        if isinstance(step, dict) and str(step.get('type')).endswith(
                'SampleFrames'):
            return step.get('clip_len', 1) * step.get('num_clips', 1)
    return 1


#: backbone type -> (T, H) of the small input and the backbone arguments
#: that rebuild its position embeddings for it (they are built for 224)
_SMALL = {
    'C3D': ((16, 112), {}),  # fc6 takes 16x112x112 clips only
    'ResNet3dSlowFast': ((8, 64), {}),  # T divisible by resample_rate (8)
    'X3D': ((4, 64), {}),
    'TimeSformer': ((4, 32), {'num_frames': 4, 'img_size': 32}),
    'VisionTransformer': ((4, 32), {'num_frames': 4, 'img_size': 32}),
    'MViT': ((8, 64), {'temporal_size': 8, 'spatial_size': 64}),
}


def small_input(cfg: Config) -> Tuple[Tuple[int, ...], Dict]:
    """A small training input for ``cfg``'s recognizer, ``(N, V, C, T, H,
    W)`` (3D) or ``(N, S, C, H, W)`` (2D) with ``N = 2`` (BN sees two
    samples), and the backbone arguments that fit it (see ``_SMALL``).
    2D models get their backbone's ``num_segments`` (given or default),
    else the train pipeline's frames per sample."""
    backbone = cfg.model.backbone
    if backbone.get('type') in ('A2Inserted', 'BlockInserted'):
        backbone = backbone.backbone  # the wrapped one sets the input
    kind = backbone.get('type')
    fmt = cfg.model.get('data_preprocessor', {}).get('format_shape')
    if cfg.model.type == 'Recognizer2D' or fmt == 'NCHW':
        segments = backbone.get('num_segments') or _default(
            kind, 'num_segments') or _train_frames(cfg)
        return (2, segments, 3, 64, 64), {}
    (t, h), overrides = _SMALL.get(kind, ((8, 64), {}))
    if kind == 'UniFormerV2':  # a 2x2 grid of patches
        patch = backbone.get('patch_size', 16)
        h = 2 * patch
        overrides = {'input_resolution': h}
        t = backbone.get('t_size', 8)  # the input's T (halved inside)
    return (2, 1, 3, t, h, h), overrides


def with_a2(model_cfg: ConfigDict, num_segments: Optional[int]) -> Dict:
    """``model_cfg`` with its backbone wrapped in ``A2Inserted`` at the
    family's default placement (a copy; the one config line a user adds)."""
    model = model_cfg.copy()
    a2 = dict(type='A2Inserted', backbone=model_cfg.backbone,
              stages='default')
    if num_segments:
        a2['num_segments'] = num_segments
    model['backbone'] = a2
    return model


def _samples(batch: int, num_classes: int) -> list:
    from mmaction.structures import ActionDataSample
    samples = []
    for i in range(batch):
        sample, label = ActionDataSample(), torch.tensor([i % num_classes])
        # MMAction2 1.1: set_gt_labels; 1.2: set_gt_label
        setter = getattr(sample, 'set_gt_label', None) or sample.set_gt_labels
        samples.append(setter(label))
    return samples


def _loss(model: nn.Module, inputs: torch.Tensor, samples: list):
    if type(model).__name__ == 'RecognizerOmni':
        losses = model(dict(inputs=inputs, data_samples=samples),
                       mode='loss')
    else:
        losses = model(inputs, samples, mode='loss')
    loss, _ = model.parse_losses(losses)
    return loss


def scores(model: nn.Module, inputs: torch.Tensor) -> torch.Tensor:
    """Class scores of a recognizer (eval mode) for ``inputs``, with every
    random generator seeded the same (TRN's head samples frame relations at
    random, also in eval mode)."""
    random.seed(0), np.random.seed(0), torch.manual_seed(0)
    if type(model).__name__ == 'RecognizerOmni':
        # MMAction2 1.1's RecognizerOmni.forward(*data_samples, mode) asserts
        # that the tuple of its arguments is a tensor in 'tensor' mode, and
        # its _forward unpacks extract_feat's single output: neither works;
        # extract_feat does (4D/5D inputs).
        out = model.extract_feat(inputs.flatten(0, 1), stage='head')
    else:
        out = model(inputs, mode='tensor', stage='head')
    return out[0] if isinstance(out, (tuple, list)) else out


def _step(model: nn.Module, optimizer, inputs, samples) -> float:
    start = time.perf_counter()
    loss = _loss(model, inputs, samples)
    loss.backward()
    optimizer.step()
    optimizer.zero_grad()
    return time.perf_counter() - start


def _reason(error: BaseException) -> str:
    text = f'{type(error).__name__}: {error}'.splitlines()[0]
    return text[:200]


def _package_of(error: BaseException) -> Optional[str]:
    while error is not None:  # the dry run wraps the error in a ValueError
        if isinstance(error, ImportError) and 'mmcv' in str(error):
            name = 'tin_shift' if 'tin_shift' in str(error) \
                else 'compiled ops'
            return f'full mmcv ({name})'
        if isinstance(error, ModuleNotFoundError) and error.name:
            return error.name.split('.')[0]
        error = error.__cause__
    return None


def sweep_config(path: str, family: str, steps: int = 3) -> Dict[str, Any]:
    """One row of the sweep (:data:`FIELDS`) for the config at ``path``."""
    start = time.perf_counter()
    row: Dict[str, Any] = dict(family=family, config=osp.basename(path))
    try:
        cfg = without_downloads(Config.fromfile(path))
        row['backbone'] = cfg.model.backbone.get('type')
        package = needed_package(cfg)
        if package:
            return dict(row, status=f'needs {package}', reason='backbone '
                        f'{row["backbone"]} comes from {package}')
        shape, overrides = small_input(cfg)
        cfg.model.backbone.update(overrides)
        row['input'] = 'x'.join(str(s) for s in shape)
        init_default_scope(cfg.get('default_scope', 'mmaction'))
        plain = MODELS.build(cfg.model)
        plain.init_weights()
        segments = shape[1] if len(shape) == 5 else None
        a2 = MODELS.build(with_a2(cfg.model, segments))
        a2.init_weights()
    except Exception as error:  # noqa: BLE001 (a row, not a crash)
        return _failed(row, error, 'build', start)
    row['status'] = 'built'
    try:
        blocks = a2.backbone.a2_blocks
        row['a2_blocks'] = len(blocks)
        state = {('backbone.backbone.' + k[len('backbone.'):]
                  if k.startswith('backbone.') else k): v
                 for k, v in plain.state_dict().items()}
        missing, unexpected = a2.load_state_dict(state, strict=False)
        if unexpected or any('a2_blocks' not in k for k in missing):
            raise RuntimeError(f'weights do not carry over: missing '
                               f'{missing[:3]}, unexpected {unexpected[:3]}')
        torch.manual_seed(0)
        inputs = torch.randn(shape)
        plain.eval(), a2.eval()
        view = inputs[:1, :1] if len(shape) == 6 else inputs[:1]
        with torch.no_grad():
            ours, theirs = scores(a2, inputs), scores(plain, inputs)
        both_nan = ours.isnan() & theirs.isnan()
        row['max_abs_diff'] = float(torch.where(
            both_nan, 0., (ours - theirs).abs()).max())
        if both_nan.any():
            row['reason'] = ('the model without A² gives NaN scores at init '
                             '(so does the one with A², at the same places)')
        params = parameter_count(plain)['']
        params_a2 = parameter_count(a2)['']
        row['params_m'] = round(params / 1e6, 3)
        row['params_added_m'] = round((params_a2 - params) / 1e6, 3)
        try:
            flops = count_flops(plain, view)
            flops_a2 = count_flops(a2, view)
            row['gflops'] = round(flops / 1e9, 3)
            row['gflops_added'] = round((flops_a2 - flops) / 1e9, 4)
        except Exception as error:  # noqa: BLE001 (FLOPs are optional)
            row['reason'] = f'FLOPs not counted ({_reason(error)})'
        num_classes = theirs.shape[-1]
        samples = _samples(shape[0], num_classes)
        plain.train(), a2.train()
        optimizers = [torch.optim.SGD(m.parameters(), lr=1e-3)
                      for m in (plain, a2)]
        times: Tuple[List[float], List[float]] = ([], [])
        for step in range(steps + 1):  # step 0: warm-up
            for i, model in enumerate((plain, a2)):
                seconds = _step(model, optimizers[i], inputs, samples)
                if step:
                    times[i].append(seconds)
        row['step_ratio'] = round(
            statistics.median(times[1]) / statistics.median(times[0]), 3)
    except Exception as error:  # noqa: BLE001
        return _failed(row, error, 'train', start)
    identity = row['max_abs_diff'] <= 1e-5 * max(
        float(theirs.nan_to_num().abs().max()), 1.0)
    row['status'] = 'trained' if identity else 'not identity'
    row['seconds'] = round(time.perf_counter() - start, 1)
    return row


def _failed(row: Dict[str, Any], error: BaseException, stage: str,
            start: float) -> Dict[str, Any]:
    package = _package_of(error)
    status = f'needs {package}' if package else f'failed ({stage})'
    if package and row.get('status') == 'built':
        status = f'built, needs {package}'
    return dict(row, status=status, reason=_reason(error),
                seconds=round(time.perf_counter() - start, 1))
