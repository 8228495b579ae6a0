# ImageNet-1k image classifier: plain ResNet-50 (reference for the cost of
# the A² blocks in a2_resnet50_image.py).
_base_ = './resnet152_image.py'

model = dict(backbone=dict(depth=50))
