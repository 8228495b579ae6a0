# Ablation, position of one A² block: after the last block of res2 (our
# choice of block within the stage; the paper's exact places are not
# confirmed). m = n = C/4 (the paper's ablation setting).
_base_ = './r26_baseline.py'

model = dict(backbone=dict(type='A2ResNet3d', a2=((0, 1), 0, 0, 0)))
