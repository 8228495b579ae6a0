"""Inference helpers: build a recognizer from a config and a checkpoint,
classify videos (with PyTorch or an exported ONNX file), read and draw A²
attention maps, export to ONNX or a PyTorch program. Used by
``tools/demo.py``, ``tools/analysis/visualize_attention.py`` and
``tools/deployment/export_onnx.py``."""
from .attention import (AttentionMaps, AttentionRecorder, a2_attention_maps,
                        extract_attention, find_a2_blocks)
from .attention_plot import (attention_grid_size, render_attention_grid,
                             save_attention_grid, select_descriptors)
from .export import (ScoresWrapper, export_onnx, export_program,
                     onnx_max_abs_diff, program_max_abs_diff,
                     torchscript_max_abs_diff, trace_torchscript)
from .onnx_inference import OnnxRecognizer
from .inference import (VIDEO_EXTENSIONS, Prediction, collect_videos,
                        init_model, load_label_map, load_weights,
                        predict_topk)
from .label_video import draw_text, read_frames, write_labelled_video

__all__ = [
    'AttentionMaps', 'AttentionRecorder', 'a2_attention_maps',
    'extract_attention', 'find_a2_blocks', 'attention_grid_size',
    'render_attention_grid', 'save_attention_grid', 'select_descriptors',
    'ScoresWrapper', 'export_onnx', 'onnx_max_abs_diff', 'export_program',
    'program_max_abs_diff', 'torchscript_max_abs_diff', 'trace_torchscript',
    'OnnxRecognizer', 'VIDEO_EXTENSIONS', 'Prediction', 'collect_videos',
    'init_model', 'load_weights', 'load_label_map', 'predict_topk',
    'draw_text', 'read_frames', 'write_labelled_video'
]
