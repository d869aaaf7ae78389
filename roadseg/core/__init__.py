"""Errors and the one-line exit, value checks, file helpers and background threads: what every
stage uses.
"""
