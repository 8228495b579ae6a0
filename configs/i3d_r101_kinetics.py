# Kinetics-400 baseline: deeper plain I3D ResNet-101.
_base_ = [
    '_base_/models/i3d_r101.py', '_base_/datasets/kinetics400_video.py',
    '_base_/schedules/kinetics_sgd.py', '_base_/default_runtime.py'
]

# local torchvision-format ResNet-101 weights, inflated to 3D
model = dict(
    backbone=dict(pretrained='checkpoints/resnet101_torchvision.pth'))
