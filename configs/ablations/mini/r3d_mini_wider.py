# Wider plain baseline: 20/40/80 channels instead of 16/32/64; more
# parameters and FLOPs than a2_mini_1block_stage2.py (docs/ablation.md
# lists both).
_base_ = './r3d_mini_baseline.py'

model = dict(backbone=dict(base_channels=20), cls_head=dict(in_channels=80))
