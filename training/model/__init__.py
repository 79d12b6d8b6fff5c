"""The AST-Seg model in PyTorch, one part per file."""

from training.model.astseg import ASTSeg, ModelOutput
from training.model.latents import SlotLatents
from training.model.renderer import Rendering

__all__ = ["ASTSeg", "ModelOutput", "Rendering", "SlotLatents"]
