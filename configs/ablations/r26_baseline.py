# Ablation setting of the paper (docs/paper.md): 3D ResNet-26 from scratch on
# Kinetics-400, 16x112x112 clips, batch 512 (32 GPUs x 16), lr 0.2, x0.1 at
# 20k and 30k iterations, stop at 37k. Every ablation config inherits this
# file and changes only the model.
# Not confirmed by the paper, our choices: the clip sampling of
# _base_/datasets/kinetics400_video_16x112.py, SGD momentum/decay of
# _base_/schedules.
_base_ = [
    '../_base_/models/r26_3d.py',
    '../_base_/datasets/kinetics400_video_16x112.py',
    '../_base_/schedules/kinetics_sgd.py', '../_base_/default_runtime.py'
]

# Paper's ablation schedule (docs/paper.md).
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
