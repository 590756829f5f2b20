"""The pure simulation core: tracks, car physics, sensors and race rules.

This package is the only importer of pybullet and knows nothing of gymnasium,
stable-baselines3 or matplotlib.
"""
