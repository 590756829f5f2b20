"""The car side: read frames, preprocess like the car, infer, map to servos. No torch here."""
