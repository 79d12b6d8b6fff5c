"""Running a Segmenter over sources: the `astseg run` command, its threaded pipeline,
several streams at once, and stopping cleanly on a signal.
"""
