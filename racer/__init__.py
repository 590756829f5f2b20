"""racer: a local-first reinforcement-learning racing simulator and trainer for 1/18-scale cars."""

import os

# PyTorch's OpenMP threads otherwise spin on a core for a while after every parallel region.
# During rollouts the policy runs once per env step, and the spinning thread takes the core
# that an env worker (``vec_env: split``) needs: training then ran 15% slower than with the
# envs in one process, and 10-20% faster once the threads sleep instead (docs/training.md).
# Policy updates are as fast either way (benchmarks/update_ceiling.py). Read when PyTorch
# loads, so it is set here, before any racer module imports it; a value the user set is kept.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"
