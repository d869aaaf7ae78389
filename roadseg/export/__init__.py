"""Exports: the TF SavedModel, ONNX and TFLite (with int8 calibration), the JSON sidecar, and
running an exported model without TensorFlow.
"""
