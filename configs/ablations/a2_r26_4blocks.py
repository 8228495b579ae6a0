# Ablation, number of A² blocks: 4, after every block of res3 and res4 (our
# choice of places).
_base_ = './r26_baseline.py'

model = dict(backbone=dict(type='A2ResNet3d', a2=(0, 1, 1, 0)))
