# Kinetics-400 baseline: non-local I3D ResNet-50, non-local blocks at the
# same 5 places as the A² blocks of a2_r50_kinetics.py.
_base_ = [
    '_base_/models/nl_i3d_r50.py', '_base_/datasets/kinetics400_video.py',
    '_base_/schedules/kinetics_sgd.py', '_base_/default_runtime.py'
]

# local torchvision-format ResNet-50 weights, inflated (see i3d_r50_kinetics)
model = dict(
    backbone=dict(pretrained='checkpoints/resnet50_torchvision.pth'))
