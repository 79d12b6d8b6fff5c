"""Two slots drawing one object become one (issue 22, `model.duplicate_slot_overlap`).

With a glimpse encoder that sees its crop (`glimpse_encoder: crop`), every slot whose window
lies on an object draws that object well, so two slots can hold one object and split its
pixels between them (docs/cpu-recipe.md §9.2). At inference, slot k's presence
p_k = w_k / (w_0 + w_k) (its weight against the background alone, whoever wins the pixel)
is compared between slots: when sum(p_j p_k) / min(sum p_j, sum p_k) exceeds the threshold,
the two claim the same pixels and slot k's weight moves onto slot j, the first of them.
Weights stay a distribution over the K+1 layers, so the argmax, the runtime's boundary
refinement and fusion all see one object. Matrix operations only (MatMul, ArgMax, Equal):
it exports inside the renderer graph. Training never merges: the loss sees every slot.
"""

from __future__ import annotations

import torch


def merge_duplicate_slots(weights: torch.Tensor, threshold: float) -> torch.Tensor:
    """weights [N, K+1, H, W] (layer 0 = background) -> the same with duplicates merged."""
    background, slots = weights[:, :1], weights[:, 1:]
    n, k = slots.shape[:2]
    presence = (slots / (background + slots).clamp_min(1e-12)).reshape(n, k, -1)
    shared = torch.matmul(presence, presence.transpose(1, 2))  # [N, K, K]
    mass = presence.sum(dim=-1)
    smaller = torch.minimum(mass[:, :, None], mass[:, None, :]).clamp_min(1e-12)
    eye = torch.eye(k, dtype=weights.dtype, device=weights.device)
    same = torch.maximum((shared / smaller > threshold).to(weights.dtype), eye)
    # slot k goes to the first j <= k it duplicates (itself when none): argmax of a score
    # that is larger for earlier slots, zero for later ones and for non-duplicates
    first = torch.arange(k, 0, -1, dtype=weights.dtype, device=weights.device)
    earlier = torch.ones(k, k, dtype=weights.dtype, device=weights.device).triu()
    target = (same * earlier * first[:, None]).argmax(dim=1)  # [N, K]
    columns = torch.arange(k, device=weights.device)
    move = (target[:, :, None] == columns).to(weights.dtype)  # [N, k, j]
    merged = torch.matmul(move.transpose(1, 2), slots.reshape(n, k, -1))
    return torch.cat([background, merged.reshape(slots.shape)], dim=1)
