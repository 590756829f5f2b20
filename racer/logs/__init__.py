"""Run logs in DeepRacer's formats (no learning libraries here)."""
