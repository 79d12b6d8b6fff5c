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
cost λ·Σ_k r_k·mean(w_k), with r_k = exp(−max(g_k, 0) / τ) held fixed (no gradient), then pulls
a redundant slot's weights down, and once one twin has let go the other's g_k rises and
the pull on it stops. Complementary halves of one object each remove their half, so the
term leaves them alone.

With `shared_only` the pull acts only where another *slot* would take the pixel over:
each owned pixel's share is weighted by (other slots' weight) / (all other layers' weight)
there. A slot alone on an object it has not yet learnt to draw also removes little, and the
plain cost pulls it off too, which hands the object to the background layer; with
`shared_only` its pixels would go to the background, so it is left alone, while a twin's
pixels go to its twin and it is pulled as before (measured: docs/cpu-recipe.md §13).
"""

from __future__ import annotations

import torch

from training.losses import pixel_error
from training.model.spatial_transformer import at_least_float32


def redundancy_loss(
    weights: torch.Tensor,
    layers: torch.Tensor,
    background: torch.Tensor,
    images: torch.Tensor,
    tau: float,
    shared_only: bool = False,
) -> tuple[torch.Tensor, torch.Tensor]:
    """(loss, g) for one batch.

    weights [N, K+1, H, W] (layer 0 = background), layers [N, K, 3, H, W], background and
    images [N, 3, H, W]. Returns the mean over images of Σ_k exp(−max(g_k, 0)/τ)·mean_pixels(w_k),
    with gradient through the weights only, and g [N, K] (detached) for logging. With
    `shared_only`, w_k is weighted per pixel by the share of the other layers' weight that
    is in slots (the part of w_k another slot would take over), held fixed.
    """
    layer_count = weights.shape[1]
    # At least float32 whatever autocast says: in float16 the other layers' weights under
    # an owned pixel (< 6e-8) are 0 and the leave-one-out division is 0/0; in bfloat16 the
    # sums round by 2^-9 at every pixel, which adds up to gains of the order of tau.
    with torch.no_grad(), torch.autocast(device_type=weights.device.type, enabled=False):
        w = at_least_float32(weights)
        colours = torch.cat([at_least_float32(background)[:, None], at_least_float32(layers)], 1)
        images = at_least_float32(images)
        drawn = w[:, :, None] * colours  # [N, K+1, 3, H, W]
        full_error = pixel_error(drawn.sum(dim=1), images)  # [N, H, W]
        # The other layers' weights and drawing summed directly (not 1 − w_k and
        # R − w_k·L_k): where a slot owns a pixel to within 1e-7 the difference would be
        # float32 rounding, not the other layers.
        others = 1.0 - torch.eye(layer_count, device=w.device, dtype=w.dtype)[1:]
        rest = torch.einsum("kj,njhw->nkhw", others, w)  # [N, K, H, W]
        rest_drawn = torch.einsum("kj,njchw->nkchw", others, drawn)
        without = rest_drawn / rest.clamp_min(1e-30)[:, :, None]
        without_error = pixel_error(without, images[:, None])  # [N, K, H, W]
        removed = (without_error - full_error[:, None]).sum(dim=(2, 3))
        owned = w[:, 1:].sum(dim=(2, 3))
        gain = removed / owned.clamp_min(1e-6)
        pull = torch.exp(-gain.clamp_min(0.0) / tau).to(weights.dtype)
        handed_to_slots = None
        if shared_only:
            # the other slots' weights summed directly, for the same reason as `rest`
            rest_slots = torch.einsum("kj,njhw->nkhw", others[:, 1:], w[:, 1:])
            handed_to_slots = (rest_slots / rest.clamp_min(1e-30)).to(weights.dtype)
    pulled = weights[:, 1:] if handed_to_slots is None else weights[:, 1:] * handed_to_slots
    share = pulled.mean(dim=(2, 3))  # [N, K]
    return (pull * share).sum(dim=1).mean(), gain
