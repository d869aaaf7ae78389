"""The parts of bench.py, the speed benchmark: timing, inputs, the model, the loader,
inference, evaluation, exports and the report.
"""
