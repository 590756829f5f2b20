"""Training: the only package that imports stable-baselines3 (lazily, inside its modules)."""
