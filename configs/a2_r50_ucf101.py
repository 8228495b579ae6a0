# A² ResNet-50 (I3D) fine-tuned on UCF-101 split 1 from a Kinetics-400
# checkpoint (docs/paper.md: "the Kinetics model, fine-tuned"); splits 2 and 3:
# a2_r50_ucf101_split2.py / _split3.py.
# The Kinetics checkpoint is read from `load_from`: put (or link) the one
# that a2_r50_kinetics.py produced at the path below, or give another with
# --cfg-options load_from=PATH. Its 400-way classifier does not fit the
# 101-way one; MMEngine skips it (logged as a shape mismatch), the rest of
# the network, A² blocks included, starts from Kinetics.
_base_ = [
    './_base_/models/a2_i3d_r50.py', './_base_/datasets/ucf101_video.py',
    './_base_/schedules/ucf101_sgd.py', './_base_/default_runtime.py'
]

model = dict(cls_head=dict(num_classes=101))

load_from = 'checkpoints/a2_r50_kinetics400.pth'
