"""Test-session settings."""

from __future__ import annotations

import os

# Parallel test workers share two cores: one PyTorch thread each keeps OpenMP from
# oversubscribing them (which slows every training test many times over).
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ.setdefault("RACER_TORCH_THREADS", "1")
    os.environ.setdefault("OMP_NUM_THREADS", "1")
