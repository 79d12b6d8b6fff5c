"""AST-Seg training: the PyTorch model, losses, data readers, metrics and trainer.

Importing this package does not import torch: readers and metrics are numpy-only
so that `astseg eval` can also score deployed bundles on a torch-free install.
"""
