# The paper's Kinetics-400 model (docs/paper.md): I3D ResNet-50 plus 5 randomly
# initialised A² blocks. Where the 5 blocks go is NOT confirmed by the paper;
# our documented choice ('res34_5', a2mm/models/backbones/a2_stages.py) is
# the places of MMAction2's non-local I3D: after blocks 1 and 3 of res3 and
# 1, 3, 5 of res4, so that nl_i3d_r50.py is a like-for-like baseline.
# m = n = C/4 (A2Block's default, the paper's ablation setting; the final
# models' ratio is not confirmed). No norm layer (the paper states none).
_base_ = './i3d_r50.py'

model = dict(backbone=dict(type='A2ResNet3d', a2='res34_5'))
