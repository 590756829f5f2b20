"""Export a trained policy to files a car loads, each checked by the runtime that will load it."""
