"""Hyperparameter sweeps over training runs (``racer tune``), with Optuna.

:mod:`racer.tune.config` (the sweep's settings) and :mod:`racer.tune.params` (``--param``
parsing) import no optimisation library; :mod:`racer.tune.executors` runs a sweep.
"""
