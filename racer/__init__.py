"""racer: a local-first reinforcement-learning racing simulator and trainer for 1/18-scale cars."""

__version__ = "0.1.0"
