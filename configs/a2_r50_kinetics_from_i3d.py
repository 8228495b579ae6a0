# Recipe: add A² blocks to a trained I3D ResNet-50 and fine-tune it
# (docs/models.md, "Start from a trained I3D").
# The model is a2_r50_kinetics.py (5 A² blocks, a2='res34_5'); every other
# weight comes from `load_from`, a checkpoint of configs/i3d_r50_kinetics.py
# or of any plain MMAction2 ResNet3d + I3DHead recognizer with the same
# backbone arguments. The A² blocks it lacks start as identity, so before
# fine-tuning this model gives the I3D's scores; the load report lists them
# as new A² blocks.
_base_ = ['a2_r50_kinetics.py']

# no ImageNet inflation: load_from holds all the I3D weights
model = dict(backbone=dict(pretrained=None))
load_from = 'checkpoints/i3d_r50_kinetics.pth'

# Fine-tuning schedule. Our choice, not the paper's (the paper trains the A²
# model from ImageNet weights): a tenth of the training lr and of its
# iterations, with validation and checkpoints 5x as often, so that the
# plateau rule of kinetics_sgd.py still gets several checks.
train_cfg = dict(max_iters=3200, val_interval=400)
optim_wrapper = dict(optimizer=dict(lr=0.004))
default_hooks = dict(checkpoint=dict(interval=400))
