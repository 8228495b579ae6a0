# Kinetics-400 baseline: I3D ResNet-50 without A² blocks, same data, schedule
# and initialisation as a2_r50_kinetics.py.
# ImageNet initialisation (docs/paper.md): a torchvision-format ResNet-50 state
# dict at the path below, inflated to 3D (nothing is downloaded at run time;
# e.g. save torchvision's resnet50 weights there once).
_base_ = [
    '_base_/models/i3d_r50.py', '_base_/datasets/kinetics400_video.py',
    '_base_/schedules/kinetics_sgd.py', '_base_/default_runtime.py'
]

model = dict(
    backbone=dict(pretrained='checkpoints/resnet50_torchvision.pth'))
