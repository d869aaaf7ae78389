"""Prediction: a photo through the network and its probabilities back at the photo's size
(graph_resizing, prediction), and painting photos and videos (painting).
"""
