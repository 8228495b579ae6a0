# TSN with the 2D A²-ResNet-50 (frame-level model): MMAction2's TSN-R50
# (configs/_base_/models/tsn_r50.py: head, consensus, normalisation),
# inherited, with A² blocks at the 'res34_5' places (our choice; see
# a2_i3d_r50.py).
# `pretrained=None`: no download at run time; set a local torchvision
# ResNet-50 file to start from ImageNet weights.
_base_ = ['mmaction::_base_/models/tsn_r50.py']

model = dict(
    backbone=dict(type='A2ResNet', pretrained=None, a2='res34_5'))
