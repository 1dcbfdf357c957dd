"""Images the project generates itself (no licence attached to anyone else's data)."""
