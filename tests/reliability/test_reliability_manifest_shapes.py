"""A manifest edited against its graphs is refused, field by field (issue 14).

`num_slots: 1` on a 4-slot bundle used to run and silently drop three slots. Every model
field the graphs' own shapes reveal is now compared with them before a frame is read.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from reliability_cli import assert_user_error, astseg, tree
from toy_bundle import build_toy_bundle
from trainer_fixtures import DATA_SPEC

EDITS: dict[str, tuple[dict[str, Any], str]] = {
    "num_slots 1 of 4": ({"num_slots": 1}, "implies 1 for that axis (model.num_slots)"),
    "num_slots 6 of 4": ({"num_slots": 6}, "implies 6 for that axis (model.num_slots)"),
    "z_what_dim 4 of 8": ({"z_what_dim": 4}, "implies 4 for that axis (model.z_what_dim)"),
    "scaling isotropic of anisotropic": (
        {"scaling": "isotropic"},
        "implies 1 for that axis (model.scaling 'isotropic')",
    ),
}


def _edit(bundle: Path, fields: dict[str, Any]) -> None:
    manifest = json.loads((bundle / "astseg.json").read_text())
    manifest["model"].update(fields)
    (bundle / "astseg.json").write_text(json.dumps(manifest))


# The toy fused graph leaves z_what's last axis symbolic (real exports fix every axis), so
# z_what_dim is tried on the split graphs only.
CASES = [(e, False) for e in EDITS] + [(e, True) for e in EDITS if not e.startswith("z_what")]


@pytest.mark.parametrize(("edit", "fused"), CASES)
def test_a_manifest_that_contradicts_its_graphs_is_refused(
    edit: str, fused: bool, clip: Path, tmp_path: Path
) -> None:
    bundle = build_toy_bundle(tmp_path / "bundle", fused=fused)
    fields, fragment = EDITS[edit]
    _edit(bundle, fields)
    out = tmp_path / "out"
    outcome = astseg(
        "run", "--video", clip, "--model", bundle, "--out", out / "a.mp4",
        "--json", out / "r.jsonl", "--quiet",
    )  # fmt: skip
    line = assert_user_error(outcome, fragment, "restore it or re-export it")
    assert "onnx in bundle" in line
    assert tree(out) == set()
    outcome = astseg("eval", "--model", bundle, "--data", DATA_SPEC, "--json", out / "s.json")
    assert_user_error(outcome, fragment)
    assert tree(out) == set()


def test_the_unedited_bundle_still_runs(toy_bundle: Path, clip: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.jsonl"
    outcome = astseg("run", "--video", clip, "--model", toy_bundle, "--json", out, "--quiet")
    assert outcome.code == 0, str(outcome)
    assert len(out.read_text().splitlines()) == 30
