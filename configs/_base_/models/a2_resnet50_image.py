# ImageNet-1k image classifier: A²-ResNet-50, the paper's model that beats
# ResNet-152 "with over 40% fewer parameters and fewer FLOPs" (docs/paper.md).
# The number and places of its A² blocks are NOT confirmed by the paper; our
# choice is 5 blocks at the 'res34_5' places, as in the video model.
_base_ = './resnet152_image.py'

model = dict(backbone=dict(type='A2ResNet', depth=50, a2='res34_5'))
