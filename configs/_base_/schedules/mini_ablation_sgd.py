# The one recipe of the miniature ablations (configs/ablations/mini/): the
# same for every arm, nothing tuned per arm. Our choice, sized for a 2-core
# CPU (no paper counterpart; the paper's ablation schedule is in
# configs/ablations/r26_baseline.py): SGD with momentum, one warm-up epoch,
# cosine decay; 16 epochs of the 480 training clips (480 iterations of
# batch 16); no validation during training (tools/test.py tests the last
# checkpoint), one checkpoint kept.
_base_ = ['../default_hooks.py']

max_epochs = 16
train_cfg = dict(
    type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=1000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=1,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=0, by_epoch=True, begin=1,
         end=max_epochs, convert_to_iter_based=True)
]

optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=0.0001),
    clip_grad=dict(max_norm=40, norm_type=2))

default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(interval=1000, max_keep_ckpts=1, save_last=True,
                    save_best=None))

auto_scale_lr = dict(enable=False, base_batch_size=16)
