"""Classify videos with an exported ONNX recognizer and onnxruntime.

The ONNX graph of ``tools/deployment/export_onnx.py`` maps the preprocessed
views to their class scores (:mod:`a2mm.apis.export`). Around it,
:class:`OnnxRecognizer` runs the same steps as MMAction2's
``inference_recognizer`` does around the PyTorch model, built from the same
config: the ``test_pipeline`` (decode, sample, resize, crop), the model's
``data_preprocessor`` (normalise) and the head's ``average_clip`` (the
views' mean score or mean softmax, ``average_clips``). Only the backbone and
the head's layers run in onnxruntime, so its top-k equals the PyTorch
model's up to the export's numerical difference.
"""
from pathlib import Path
from typing import List, Optional, Sequence, Union

import numpy as np
import torch
from mmaction.registry import MODELS
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate
from mmengine.registry import init_default_scope

from .export import SOFTMAX_METADATA_KEY
from .inference import load_config

__all__ = ['OnnxRecognizer', 'views_as_batch']


def views_as_batch(inputs: torch.Tensor,
                   graph_shape: Sequence[Union[int, str, None]],
                   onnx_file: str) -> torch.Tensor:
    """Fit the preprocessed views of one video to the ONNX graph's input.

    ``inputs`` is ``(1, V, ...)``; a graph exported for ``v`` views per
    sample (``--shape B v C T H W``) with a dynamic batch takes them as
    ``(V / v, v, ...)``, and its output rows stay in view order.

    Raises:
        ValueError: the shapes cannot be matched; the message names the ONNX
            file and both shapes.
    """
    actual = tuple(inputs.shape)
    graph = [d if isinstance(d, int) else None for d in graph_shape]
    hint = (f'{onnx_file} takes inputs of shape {tuple(graph_shape)} but the '
            f"config's test pipeline gives {actual}: export with --shape 1 "
            f'1 {" ".join(map(str, actual[2:]))} (dynamic batch) to match it')
    if len(graph) != len(actual) or any(
            g is not None and g != a for g, a in zip(graph[2:], actual[2:])):
        raise ValueError(hint)
    views = graph[1] if graph[1] is not None else actual[1]
    if actual[1] % views:
        raise ValueError(hint)
    batch = actual[1] // views
    if graph[0] is not None and graph[0] != batch:
        raise ValueError(hint)
    return inputs.reshape((batch, views) + actual[2:])


class OnnxRecognizer:
    """An exported recognizer, run with onnxruntime behind the test
    pipeline, data preprocessor and clip averaging of its config.

    Args:
        config: the config the model was exported from (path or
            :class:`Config`).
        onnx_file: the ``.onnx`` file of ``tools/deployment/export_onnx.py``.
        cfg_options: dotted-key overrides merged into the config.
        device: ``'cpu'`` or ``'cuda[:i]'`` (onnxruntime's CUDA provider,
            which the ``onnxruntime-gpu`` package has).
    """

    def __init__(self,
                 config: Union[str, Path, Config],
                 onnx_file: str,
                 *,
                 cfg_options: Optional[dict] = None,
                 device: str = 'cpu') -> None:
        import onnxruntime as ort

        if not Path(onnx_file).is_file():
            raise FileNotFoundError(f'ONNX file not found: {onnx_file}')
        self.cfg = load_config(config, cfg_options)
        self.onnx_file = str(onnx_file)
        init_default_scope(self.cfg.get('default_scope', 'mmaction'))
        self.pipeline = Compose(self.cfg.test_pipeline)
        self.data_preprocessor = MODELS.build(
            self.cfg.model.data_preprocessor)
        # The head's average_clip only; its layers run in onnxruntime.
        self.head = MODELS.build(self.cfg.model.cls_head)
        providers = ['CPUExecutionProvider']
        if str(device).startswith('cuda'):
            if 'CUDAExecutionProvider' not in ort.get_available_providers():
                raise ValueError(f'device {device!r}: this onnxruntime has '
                                 'no CUDAExecutionProvider')
            index = str(device).partition(':')[2] or '0'
            providers = [('CUDAExecutionProvider', {'device_id': index})]
        self.session = ort.InferenceSession(self.onnx_file,
                                            providers=providers)
        meta = self.session.get_modelmeta().custom_metadata_map
        #: the graph's scores are probabilities (exported with --softmax)
        self.softmaxed = meta.get(SOFTMAX_METADATA_KEY) == 'true'
        graph_input = self.session.get_inputs()[0]
        self.input_name = graph_input.name
        self.input_shape: List = list(graph_input.shape)

    def video_scores(self, video: str) -> torch.Tensor:
        """The class scores of one video, ``(num_classes,)``, as
        ``class_scores(inference_recognizer(model, video))`` gives them
        for the PyTorch model."""
        data = self.pipeline(
            dict(filename=video, label=-1, start_index=0, modality='RGB'))
        batch = self.data_preprocessor(pseudo_collate([data]), False)
        inputs = views_as_batch(batch['inputs'], self.input_shape,
                                self.onnx_file)
        scores = self.session.run(
            None, {self.input_name: inputs.numpy().astype(np.float32)})[0]
        scores = torch.from_numpy(scores)  # (views, num_classes)
        if self.softmaxed:
            # Probabilities already: their mean is average_clips='prob'.
            return scores.mean(0)
        return self.head.average_clip(scores, num_segs=scores.shape[0])[0]
