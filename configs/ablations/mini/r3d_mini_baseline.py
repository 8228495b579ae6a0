# The miniature ablations (docs/ablation.md): the paper's video ablations
# (arXiv:1810.11579, Sec. 4: ResNet-26 on Kinetics) scaled down to a 2-core
# CPU, on the long-range digits dataset
# (tools/data/make_long_range_dataset.py). Every arm in this folder
# inherits this file and changes only the backbone; one recipe for all
# (_base_/schedules/mini_ablation_sgd.py).
# Backbone, our choice: the embedded default's small 3D ResNet
# (_base_/models/a2_tiny_r3d.py: BasicBlocks (2, 2, 2), 16/32/64 channels)
# without A² blocks, with a temporal receptive field of 3 frames: conv1
# is 3x7x7, every residual block 1x3x3 (inflate=0) and no temporal pooling
# (with_pool2=False), so no convolution relates the first digit (frames
# 0-2) to the second (frames 5-7). Spatially the features of res3 already
# cover the whole 32x32 frame.
_base_ = [
    '../../_base_/models/a2_tiny_r3d.py',
    '../../_base_/datasets/long_range_digits_video.py',
    '../../_base_/schedules/mini_ablation_sgd.py',
    '../../_base_/default_runtime.py'
]

# Every block an arm inserts is trained from scratch, so none starts as an
# identity: A² blocks with zero_init=False (the a2_cfg below, inherited by
# every A² arm), the GC block with zero_init=False (its config), and the
# non-local block as MMAction2 builds it (ResNet3d.init_weights sets every
# BatchNorm weight to 1 after mmcv's NonLocal3d zeroed its output norm).
# Zero-initialised blocks (a2mm's default, for adding blocks to a trained
# model) left the A² and GC arms at chance in about half of the seeds here:
# a zero output gets no first-order gradient from this task's label
# (docs/ablation.md).
model = dict(
    backbone=dict(
        a2=0,
        a2_cfg=dict(zero_init=False),
        inflate=(0, 0, 0),
        with_pool2=False,
        temporal_strides=(1, 1, 1)),
    cls_head=dict(num_classes=2))
