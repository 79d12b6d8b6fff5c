"""Outputs of a run: annotated video, mask PNGs, JSON lines and the HTML report.

Every file appears whole or not at all (written beside its final name, then renamed), and
an output that would overwrite an input is refused before the first frame is read.
"""
