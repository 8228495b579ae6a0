# Deeper plain baseline (miniature of ../r29_baseline.py): one more
# residual block in stage 2, where the single A² block of
# a2_mini_1block_stage2.py sits; more parameters and FLOPs than that model
# (docs/ablation.md lists both).
_base_ = './r3d_mini_baseline.py'

model = dict(backbone=dict(stage_blocks=(2, 3, 2)))
