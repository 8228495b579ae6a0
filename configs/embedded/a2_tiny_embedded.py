# The embedded default: a small A² 3D ResNet trained on moving handwritten
# digits over real video (tools/data/make_embedded_dataset.py), tested with
# 4 clips x 3 crops. Run everything with `bash tools/run_default.sh`.
_base_ = [
    '../_base_/models/a2_tiny_r3d.py',
    '../_base_/datasets/embedded_digits_video.py',
    '../_base_/schedules/embedded_sgd.py', '../_base_/default_runtime.py'
]
