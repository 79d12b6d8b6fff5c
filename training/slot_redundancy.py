"""Our addition, not the paper's: a cost on slots that add nothing over the others (issue 22).

Two slots a few pixels apart often both draw one object (docs/cpu-recipe.md §10): each
reconstructs it well, so the paper's loss has no reason to switch either off, and the
object comes out as two segments. What singles out such a slot is what it *draws*, not
where it looks: take it away and the image is rebuilt almost as well, because its twin
draws the same pixels. This module measures that, per slot and image, without labels:

    g_k = Σ_pixels (e_without_k − e) / Σ_pixels w_k

the reconstruction error removed per pixel the slot owns, with e the per-pixel error of
eq 19-20 and e_without_k the error once slot k's weight is shared out among the other
layers in proportion to theirs (eq 17 without it). A slot alone on its object removes about
the object's contrast with the background there; a duplicate removes almost nothing. The
cost λ·Σ_k r_k·mean(w_k), with r_k = exp(−g_k / τ) held fixed (no gradient), then pulls
a redundant slot's weights down, and once one twin has let go the other's g_k rises and
the pull on it stops. Complementary halves of one object each remove their half, so the
term leaves them alone.
"""

from __future__ import annotations

import torch


def redundancy_loss(
    weights: torch.Tensor,
    layers: torch.Tensor,
    background: torch.Tensor,
    images: torch.Tensor,
    tau: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """(loss, g) for one batch.

    weights [N, K+1, H, W] (layer 0 = background), layers [N, K, 3, H, W], background and
    images [N, 3, H, W]. Returns the mean over images of Σ_k exp(−g_k/τ)·mean_pixels(w_k),
    with gradient through the weights only, and g [N, K] (detached) for logging.
    """
    layer_count = weights.shape[1]
    with torch.no_grad():
        colours = torch.cat([background[:, None], layers], dim=1)  # [N, K+1, 3, H, W]
        drawn = weights[:, :, None] * colours
        full_error = (drawn.sum(dim=1) - images).abs().sum(dim=1).square()  # [N, H, W]
        # The other layers' weights and drawing summed directly (not 1 − w_k and
        # R − w_k·L_k): where a slot owns a pixel to within 1e-7 the difference would be
        # float32 rounding, not the other layers.
        others = 1.0 - torch.eye(layer_count, device=weights.device, dtype=weights.dtype)[1:]
        rest = torch.einsum("kj,njhw->nkhw", others, weights)  # [N, K, H, W]
        rest_drawn = torch.einsum("kj,njchw->nkchw", others, drawn)
        without = rest_drawn / rest.clamp_min(1e-30)[:, :, None]
        without_error = (without - images[:, None]).abs().sum(dim=2).square()  # [N, K, H, W]
        removed = (without_error - full_error[:, None]).sum(dim=(2, 3))
        owned = weights[:, 1:].sum(dim=(2, 3))
        gain = removed / owned.clamp_min(1e-6)
        pull = torch.exp(-gain.clamp_min(0.0) / tau)
    share = weights[:, 1:].mean(dim=(2, 3))  # [N, K]
    return (pull * share).sum(dim=1).mean(), gain
