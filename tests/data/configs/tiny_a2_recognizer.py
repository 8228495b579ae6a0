# The tool tests' model: the embedded default's small A² 3D ResNet
# (a2_tiny_r3d.py) with its A² blocks made non-identity (zero_init=False),
# so that they change the scores the tests compare; one centre-cropped clip
# of the embedded dataset's validation pipeline as the test pipeline.
_base_ = [
    '../../../configs/_base_/models/a2_tiny_r3d.py',
    '../../../configs/_base_/datasets/embedded_digits_video.py',
]
custom_imports = dict(imports=['a2mm'], allow_failed_imports=False)
default_scope = 'mmaction'

model = dict(backbone=dict(a2_cfg=dict(zero_init=False)))
test_pipeline = {{_base_.val_pipeline}}
