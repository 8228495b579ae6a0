# I3D ResNet-50 (ImageNet ResNet-50 inflated to 3D): MMAction2's
# configs/_base_/models/i3d_r50.py (inflation pattern, head, input
# normalisation), inherited ('mmaction::' resolves through a2mm.compat, which
# the tools and `import a2mm` install).
# Adapted to the paper's 8-frame Kinetics clips (docs/paper.md: 8 frames;
# resolution and strides not confirmed). Our choice, not the paper's: no
# temporal stride in conv1 and pool1 (MMAction2's I3D takes 32 frames and
# strides both by 2); `pool2` halves time after res2, so res3-res5 see 4 time
# steps.
# `pretrained=None` here (MMAction2's base downloads torchvision's weights)
# so that the model builds and initialises anywhere; the Kinetics configs
# point it at a local torchvision ResNet-50 file (no download at run time).
_base_ = ['mmaction::_base_/models/i3d_r50.py']

model = dict(
    backbone=dict(
        pretrained=None,
        conv1_stride_t=1,
        pool1_stride_t=1,
        with_pool2=True))
