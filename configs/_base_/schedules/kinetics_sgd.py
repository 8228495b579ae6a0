# Kinetics-400 schedule of the paper's ResNet-50 + A² model (docs/paper.md,
# "Training recipes"): batch 512 clips on 64 GPUs (8 per GPU), base lr 0.04,
# lowered when progress stalls, 32k iterations.
# Not confirmed by the paper, and taken from MMAction2's I3D recipes instead:
# the optimiser (SGD, momentum 0.9, weight decay 1e-4, grad-norm clip 40),
# the reduction factor (x0.1), how often progress is checked (every 2k
# iterations on the validation set) and the patience (2 checks).
_base_ = ['../default_hooks.py']

train_cfg = dict(
    type='IterBasedTrainLoop', max_iters=32000, val_interval=2000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

# "lowered when progress stalls": MMEngine's ReduceOnPlateauLR steps after
# each validation (by_epoch=True is what MMEngine requires for it; in an
# iteration-based loop it counts validations, not epochs).
param_scheduler = [
    dict(
        type='ReduceOnPlateauLR',
        monitor='acc/top1',
        rule='greater',
        factor=0.1,
        patience=2,
        by_epoch=True)
]

optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.04, momentum=0.9, weight_decay=0.0001),
    clip_grad=dict(max_norm=40, norm_type=2))

default_hooks = dict(
    checkpoint=dict(
        by_epoch=False,
        interval=2000,
        max_keep_ckpts=5,
        save_best='acc/top1',
        rule='greater'))
log_processor = dict(by_epoch=False)

# lr 0.04 is for 512 clips per iteration; with --auto-scale-lr the lr is
# scaled linearly to the actual total batch (GPUs x batch_size).
auto_scale_lr = dict(enable=False, base_batch_size=512)
