"""Fixed-camera mode: the learned background decides which pixels are foreground.

The background is relit to each frame, refreshed only when the view changes, and its
foreground is divided among the slots, so masks follow outlines and keep slot identities.
"""
