# One GCNet global context block (mmcv's ContextBlock over space and time,
# a2mm's ContextBlock3d; bottleneck ratio 1/4, i.e. 8 channels at C = 32,
# as m = n = 8 of the A² block) where a2_mini_1block_stage2.py puts its A²
# block: on the output of the last residual block of stage 2. ResNet3d has
# no argument for it, so BlockInserted wraps the baseline backbone
# unchanged.
_base_ = './r3d_mini_baseline.py'

model = dict(
    backbone=dict(
        _delete_=True,
        type='BlockInserted',
        backbone={{_base_.model.backbone}},
        positions=['layer2.1'],
        block=dict(type='ContextBlock3d', ratio=1 / 4, zero_init=False)))
