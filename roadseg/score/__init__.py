"""Scoring: the confusion matrix and MaxF (metrics), infer.py --evaluate (evaluation), the
official Cityscapes and KITTI scores and their submission files.
"""
