"""Training: the training graph on one or more devices (trainer), the epoch loop (epochs),
optimizers, schedules, devices, TensorBoard summaries, run settings and --force's
replacement.
"""
