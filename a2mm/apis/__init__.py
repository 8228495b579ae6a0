"""What a user calls from Python: build a recognizer from a config and a
checkpoint, classify videos (with PyTorch or an exported ONNX file), read
and draw A² attention maps, export to ONNX or a PyTorch program, check a
config and make the tools' config edits. Used by ``tools/demo.py``,
``tools/analysis/visualize_attention.py``,
``tools/deployment/export_onnx.py``, ``tools/train.py`` and
``tools/test.py``.

The names below load their module on first use (``from a2mm.apis import
save_attention_grid`` imports :mod:`.attention_plot` then), so that
``import a2mm``, which every config's ``custom_imports`` runs, loads none
of the plotting, video-writing, ONNX or inference code.
"""
import importlib
from typing import Any, Dict, List

#: module (inside a2mm.apis) -> the public names it defines
_MODULES: Dict[str, List[str]] = {
    'attention': [
        'AttentionMaps', 'AttentionRecorder', 'a2_attention_maps',
        'extract_attention', 'find_a2_blocks'
    ],
    'attention_plot': [
        'attention_grid_size', 'render_attention_grid', 'save_attention_grid',
        'select_descriptors'
    ],
    'config_check': ['ConfigError', 'check_config'],
    'config_edits': [
        'add_amp_arguments', 'enable_amp_test', 'enable_amp_train',
        'enable_skip_bad_videos', 'link_num_classes'
    ],
    'export': [
        'ScoresWrapper', 'export_onnx', 'onnx_max_abs_diff', 'export_program',
        'program_max_abs_diff', 'torchscript_max_abs_diff',
        'trace_torchscript'
    ],
    'onnx_inference': ['OnnxRecognizer'],
    'inference': [
        'VIDEO_EXTENSIONS', 'Prediction', 'collect_videos', 'init_model',
        'load_label_map', 'predict_topk'
    ],
    'label_video': ['draw_text', 'read_frames', 'write_labelled_video'],
}
_MODULE_OF: Dict[str, str] = {
    name: module
    for module, names in _MODULES.items() for name in names
}

__all__ = list(_MODULE_OF)


def __getattr__(name: str) -> Any:
    """Import the module that defines ``name`` (PEP 562) and return it."""
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
    value = getattr(importlib.import_module(f'.{module}', __name__), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> List[str]:
    return sorted(set(globals()) | set(__all__))
