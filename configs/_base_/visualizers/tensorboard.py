# default_runtime.py with TensorBoard logging added to the local json logs.
# Use this file in place of '../_base_/default_runtime.py' in a config's
# `_base_` list (MMEngine forbids two bases defining the same key, so it
# cannot be listed beside default_runtime.py). Scalars (loss, lr, acc/*)
# then also go to <work_dir>/<timestamp>/vis_data/ as TensorBoard events:
#   tensorboard --logdir work_dirs/<config name>
# Needs the `tensorboard` package (pip install tensorboard).
_base_ = ['../default_runtime.py']

vis_backends = [
    dict(type='LocalVisBackend'),
    dict(type='TensorboardVisBackend'),
]
visualizer = dict(type='ActionVisualizer', vis_backends=vis_backends)
