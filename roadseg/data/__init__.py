"""Data: the data-source contract and its loader, samples, batches, augmentation, photos,
labels and their resizing, class weights, the synthetic scenes.
"""
