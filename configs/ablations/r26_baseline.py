# Ablation setting of the paper (PAPER.md): 3D ResNet-26 from scratch on
# Kinetics-400, 16x112x112 clips, batch 512 (32 GPUs x 16), lr 0.2, x0.1 at
# 20k and 30k iterations, stop at 37k. Every ablation config inherits this
# file and changes only the model.
# Not confirmed by the paper, our choices: frame stride 4 (64-frame span),
# the Kinetics augmentations of _base_/datasets/kinetics400_video.py scaled
# to 112 (short side 128), SGD momentum/decay of _base_/schedules.
_base_ = [
    '../_base_/models/r26_3d.py', '../_base_/datasets/kinetics400_video.py',
    '../_base_/schedules/kinetics_sgd.py', '../_base_/default_runtime.py'
]

# The 16x112x112 pipelines differ from the 8x224x224 base in clip_len and
# sizes only. TODO: move them to _base_/datasets/ (datasets owner).
clip_len = 16
frame_interval = 4
train_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=16, frame_interval=4, num_clips=1),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 128)),
    dict(type='RandomResizedCrop'),
    dict(type='Resize', scale=(112, 112), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
val_pipeline = [
    dict(type='DecordInit'),
    dict(
        type='SampleFrames',
        clip_len=16,
        frame_interval=4,
        num_clips=1,
        test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 128)),
    dict(type='CenterCrop', crop_size=112),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
test_pipeline = [
    dict(type='DecordInit'),
    dict(
        type='SampleFrames',
        clip_len=16,
        frame_interval=4,
        num_clips=10,
        test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 128)),
    dict(type='ThreeCrop', crop_size=128),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
train_dataloader = dict(batch_size=16, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(batch_size=16, dataset=dict(pipeline=val_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))

# Paper's ablation schedule (PAPER.md).
train_cfg = dict(max_iters=37000, val_interval=5000)
param_scheduler = [
    dict(
        type='MultiStepLR',
        by_epoch=False,
        begin=0,
        end=37000,
        milestones=[20000, 30000],
        gamma=0.1)
]
optim_wrapper = dict(optimizer=dict(lr=0.2))
