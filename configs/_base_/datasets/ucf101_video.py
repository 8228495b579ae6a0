# UCF-101 (split 1) from video files, decoded with decord.
# The pipelines are inherited from kinetics400_video.py: the model is the
# Kinetics one fine-tuned (docs/paper.md), so it sees the same 8-frame
# clips and the same 10 clips x 3 crops test. The paper's UCF-101 clip
# sampling is not confirmed.
# Splits 2 and 3: configs/a2_r50_ucf101_split2.py / _split3.py, or
# --cfg-options on the three ann_file keys.
# Lists and label map: tools/data/build_ucf101_lists.py (docs/data.md).
_base_ = ['./kinetics400_video.py']

data_root = 'data/ucf101/videos'
split = 1
ann_file_train = f'data/ucf101/ucf101_train_split_{split}_videos.txt'
ann_file_val = f'data/ucf101/ucf101_val_split_{split}_videos.txt'
ann_file_test = ann_file_val

# 13 clips per GPU: the paper's 104 clips on 8 GPUs (docs/paper.md).
train_dataloader = dict(
    batch_size=13,
    dataset=dict(ann_file=ann_file_train, data_prefix=dict(video=data_root)))
val_dataloader = dict(
    dataset=dict(ann_file=ann_file_val, data_prefix=dict(video=data_root)))
test_dataloader = dict(
    dataset=dict(ann_file=ann_file_test, data_prefix=dict(video=data_root)))
