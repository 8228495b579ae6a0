# The paper's ablation backbone (docs/paper.md): a 3D ResNet-26 on 16x112x112
# clips. ResNet-26 = bottleneck blocks (2, 2, 2, 2): 1 + 3 x 8 + 1 layers.
# Trained from scratch in the ablations (pretrained=None). Not confirmed by
# the paper, our choices: I3D-style 3x1x1 inflation of every block, conv1
# 5x7x7 without temporal stride, `pool2` halving time after res2 (res3-res5
# see 8 time steps), MMAction2's I3D head and normalisation.
_base_ = './i3d_r50.py'

model = dict(
    backbone=dict(
        pretrained2d=False,
        stage_blocks=(2, 2, 2, 2),
        inflate=(1, 1, 1, 1),
        zero_init_residual=True))
