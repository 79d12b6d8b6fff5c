"""The manifest's model fields against the shapes the graphs themselves declare.

`astseg.json` says how many slots, how long a z_what, how many scale values and what image
size the model has; the graphs say it too, in their input and output shapes. An edited
manifest (`num_slots: 1` on a 4-slot bundle) would otherwise run and silently drop slots, so
every fixed dimension the graphs declare must be the one the manifest implies. A symbolic
dimension (the dynamic batch axis) is not compared.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sdk.bundle.manifest import REEXPORT, ModelSpec
from sdk.errors import BundleError

Shape = Sequence[object]  # ints for fixed dimensions, str or None for symbolic ones


def expected_shapes(model: ModelSpec) -> dict[str, tuple[tuple[int, str], ...]]:
    """Per tensor, after the batch axis: (size, the manifest field it comes from)."""
    k = (model.num_slots, "model.num_slots")
    h = (model.image_height, "model.image_height")
    w = (model.image_width, "model.image_width")
    return {
        "image": ((3, "3 colour channels"), h, w),
        "position": (k, (2, "2 coordinates")),
        "scale": (k, (model.scale_dim, f"model.scaling {model.scaling!r}")),
        "log_activation": (k,),
        "z_what": (k, (model.z_what_dim, "model.z_what_dim")),
        "weights": ((model.num_slots + 1, "model.num_slots + 1"), h, w),
        "segmentation": (h, w),
    }


def check_graph_shapes(
    model: ModelSpec, tensors: Mapping[str, Shape], file_name: str, source: str
) -> None:
    """Raises one sentence naming the first tensor whose declared shape contradicts the
    manifest. `tensors`: name -> declared shape, batch axis first, of one graph's inputs and
    outputs."""
    expected = expected_shapes(model)
    for name, shape in tensors.items():
        if name not in expected:
            continue
        want = expected[name]
        dims = list(shape)[1:]
        if len(dims) != len(want):
            raise BundleError(
                f"{file_name} in bundle {source} declares {name} with {len(dims) + 1} axes "
                f"({_shown(shape)}), not the {len(want) + 1} of bundle format 1; {REEXPORT}."
            )
        for got, (size, field) in zip(dims, want, strict=True):
            if isinstance(got, int) and got != size:
                raise BundleError(
                    f"{file_name} in bundle {source} declares {name} as {_shown(shape)}, but its "
                    f"astseg.json implies {size} for that axis ({field}); the manifest was "
                    f"edited or belongs to another model: restore it or {REEXPORT}."
                )


def _shown(shape: Shape) -> str:
    return "[" + ", ".join(str(d) if isinstance(d, int) else str(d or "?") for d in shape) + "]"
