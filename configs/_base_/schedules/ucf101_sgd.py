# UCF-101 fine-tuning schedule (docs/paper.md, "Training recipes"): batch 104
# clips on 8 GPUs (13 per GPU: batch_size in ucf101_video.py), lr 0.01, x0.1 every three epochs (the paper
# says "every three"; epochs is our reading).
# Not confirmed, our choice: 9 epochs in all (three lr steps), SGD with
# momentum 0.9 and weight decay 1e-4 (MMAction2's I3D recipes).
_base_ = ['../default_hooks.py']

max_epochs = 9
train_cfg = dict(
    type='EpochBasedTrainLoop',
    max_epochs=max_epochs,
    val_begin=1,
    val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

param_scheduler = [
    dict(type='StepLR', step_size=3, gamma=0.1, by_epoch=True, begin=0,
         end=max_epochs)
]

optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=0.0001),
    clip_grad=dict(max_norm=40, norm_type=2))

default_hooks = dict(
    checkpoint=dict(interval=1, max_keep_ckpts=3, save_best='acc/top1',
                    rule='greater'))

auto_scale_lr = dict(enable=False, base_batch_size=104)
