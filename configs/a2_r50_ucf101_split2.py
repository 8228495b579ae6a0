# a2_r50_ucf101.py on UCF-101 split 2.
_base_ = ['./a2_r50_ucf101.py']

train_dataloader = dict(
    dataset=dict(ann_file='data/ucf101/ucf101_train_split_2_videos.txt'))
val_dataloader = dict(
    dataset=dict(ann_file='data/ucf101/ucf101_val_split_2_videos.txt'))
test_dataloader = dict(
    dataset=dict(ann_file='data/ucf101/ucf101_val_split_2_videos.txt'))
