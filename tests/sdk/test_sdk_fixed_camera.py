"""Fixed-camera mode: the background graph's foreground, fused with the slots (issue 12)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
from toy_bundle import write_manifest
from typer.testing import CliRunner

from sdk import BundleError, Segmenter
from sdk.bundle.manifest import parse_manifest
from sdk.fixed_camera.foreground import ForegroundRule, foreground_mask
from sdk.fixed_camera.fused import FusedLabels, at_frame_size, fuse_map_labels

GREY = (30, 30, 30)  # the toy camera's background (camera_bundle_dir)
RED, GREEN, BLUE = (40, 40, 230), (40, 230, 40), (230, 60, 40)  # BGR


def fuse_labels(
    fg: np.ndarray,
    weights: np.ndarray,
    reported: np.ndarray,
    height: int,
    width: int,
    min_area: int,
) -> FusedLabels:
    """The fused partition at the frame's size, as the runtime reports it."""
    return at_frame_size(
        fuse_map_labels(fg, weights, reported, height, width, min_area), height, width
    )


def scene(height: int, width: int, discs: list[tuple[float, float, float, tuple]]) -> np.ndarray:
    frame = np.full((height, width, 3), GREY, np.uint8)
    for x, y, r, colour in discs:
        cv2.circle(frame, (round(x), round(y)), round(r), colour, -1)
    return frame


def disc_mask(height: int, width: int, x: float, y: float, r: float) -> np.ndarray:
    mask = np.zeros((height, width), np.uint8)
    cv2.circle(mask, (round(x), round(y)), round(r), 1, -1)
    return mask.astype(bool)


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max(1, (a | b).sum()))


THREE = [(60, 60, 26, RED), (250, 70, 22, GREEN), (160, 180, 30, BLUE)]


def _assert_partition(result) -> None:  # type: ignore[no-untyped-def]
    """Each foreground pixel belongs to exactly one object; background pixels to none."""
    fg = result.foreground
    assert fg is not None and fg.shape == result.frame_shape and fg.dtype == bool
    owners = np.zeros(fg.shape, np.int32)
    for obj in result.objects:
        owners += obj.mask
        assert obj.mask.sum() == obj.area > 0
    assert np.array_equal(owners[fg], np.ones(int(fg.sum()), np.int32))
    assert not owners[~fg].any()
    assert np.array_equal(result.label_map != 0, fg)


def test_fused_is_a_partition_and_unclaimed_foreground_is_an_object(
    camera_bundle_dir: Path,
) -> None:
    # K = 2 slots, three objects on screen; one still image: fusion alone, no track evidence
    seg = Segmenter(camera_bundle_dir, track=False)
    assert seg.masks_from == "fused"
    result = seg(scene(240, 320, THREE))
    _assert_partition(result)
    assert result.masks_from == "fused" and len(result.objects) == 3
    claimed = [o for o in result.objects if not o.unclaimed]
    unclaimed = [o for o in result.objects if o.unclaimed]
    assert len(claimed) == 2 and {o.slot for o in claimed} == {0, 1}
    assert len(unclaimed) == 1 and unclaimed[0].slot == -1 and unclaimed[0].score == 0.0
    for x, y, r, _ in THREE:  # every disc is one object whose mask is the disc
        truth = disc_mask(240, 320, x, y, r)
        best = max(iou(o.mask, truth) for o in result.objects)
        assert best > 0.9
    assert len({o.id for o in result.objects}) == 3
    record = json.loads(result.to_json())
    assert record["masks_from"] == "fused"
    assert sorted(o["unclaimed"] for o in record["objects"]) == [False, False, True]
    assert result.plot().shape == (240, 320, 3)


def test_unclaimed_objects_keep_their_track_ids(camera_bundle_dir: Path) -> None:
    seg = Segmenter(camera_bundle_dir)
    ids = []
    for t in range(6):
        moved = [(x + 4 * t, y + 2 * t, r, c) for x, y, r, c in THREE]
        result = seg(scene(240, 320, moved))
        _assert_partition(result)  # held-back tentative objects leave the label map too
        ids.append(sorted((round(o.centroid[0]), o.id) for o in result.objects))
    per_frame = [[i for _, i in frame] for frame in ids]
    assert per_frame[:2] == [[], []]  # tentative until seen in min_hits = 3 frames
    assert all(len(p) == 3 for p in per_frame[2:])
    assert all(p == per_frame[2] for p in per_frame[2:])  # left-to-right order keeps its IDs


def test_background_mode_is_connected_components(camera_bundle_dir: Path) -> None:
    seg = Segmenter(camera_bundle_dir, masks_from="background", track=False)
    result = seg(scene(240, 320, THREE))
    _assert_partition(result)
    assert len(result.objects) == 3 and all(o.unclaimed and o.slot == -1 for o in result.objects)
    assert [o.id for o in result.objects] == [1, 2, 3]
    tiny = seg(scene(240, 320, [(100, 100, 2, RED)]))  # 13 pixels, under min_area 16
    assert len(tiny.objects) == 0 and tiny.foreground is not None and not tiny.foreground.any()


def test_slot_mode_on_a_camera_bundle_and_on_a_bundle_without_background(
    camera_bundle_dir: Path, toy_bundle_dir: Path
) -> None:
    slots = Segmenter(camera_bundle_dir, masks_from="slots")(scene(240, 320, THREE))
    assert slots.masks_from == "slots" and slots.foreground is None and len(slots.objects) == 2
    plain = Segmenter(toy_bundle_dir)
    assert plain.masks_from == "slots"
    assert plain(scene(240, 320, THREE)).foreground is None
    for mode in ("fused", "background"):
        with pytest.raises(BundleError, match=r"has no background model, so masks_from="):
            Segmenter(toy_bundle_dir, masks_from=mode)
    with pytest.raises(ValueError, match=r"masks_from is 'disc'"):
        Segmenter(camera_bundle_dir, masks_from="disc")


def test_background_size_disagreeing_with_its_graph_is_refused(
    camera_bundle_dir: Path, tmp_path: Path
) -> None:
    bundle = Path(shutil.copytree(camera_bundle_dir, tmp_path / "bundle"))
    manifest = json.loads((bundle / "astseg.json").read_text())
    manifest["background"]["image_height"] = 100
    write_manifest(bundle, manifest)
    with pytest.raises(BundleError) as err:
        Segmenter(bundle)
    message = str(err.value)
    assert "background.onnx" in message and "background 100x160" in message
    assert message.count(". ") == 0 and message.endswith(".")  # one sentence


def _manifest(camera_bundle_dir: Path) -> dict:
    return json.loads((camera_bundle_dir / "astseg.json").read_text())


def test_manifest_background_section_is_checked(camera_bundle_dir: Path) -> None:
    good = _manifest(camera_bundle_dir)
    parsed = parse_manifest(good, "m")
    assert parsed.background is not None
    assert (parsed.background.image_height, parsed.background.image_width) == (120, 160)
    assert parsed.background.rule == ForegroundRule(alpha1=96 / 255, alpha2=7.0, close=5, open=7)
    cases = {
        "background.image_width": lambda m: m["background"].update(image_width="160"),
        "background.graph": lambda m: m["background"].update(graph="other.onnx"),
        "background.foreground_rule.alpha2": lambda m: m["background"]["foreground_rule"].update(
            alpha2="seven"
        ),
        "background.foreground_rule": lambda m: m["background"]["foreground_rule"].update(
            alpha1=-1.0
        ),
        "field 'background' is missing": lambda m: m.pop("background"),
    }
    for needle, damage in cases.items():
        data = _manifest(camera_bundle_dir)
        damage(data)
        with pytest.raises(BundleError, match=needle.replace(".", r"\.")):
            parse_manifest(data, "m")
    extra = _manifest(camera_bundle_dir)
    extra["background"]["foreground_rule"] = {"alpha2": 1.5, "future_key": 1}  # keys may be added
    parsed_extra = parse_manifest(extra, "m").background
    assert parsed_extra is not None and parsed_extra.rule == ForegroundRule(alpha2=1.5)
    # the real-camera keys are read too, not left at the runtime's defaults
    real = _manifest(camera_bundle_dir)
    real["background"]["foreground_rule"] = {"hysteresis": 3.0, "shake": 0.0, "adapt": 0}
    parsed_real = parse_manifest(real, "m").background
    assert parsed_real is not None
    assert parsed_real.rule == ForegroundRule(hysteresis=3.0, shake=0.0, adapt=0)


def test_foreground_rule_numbers() -> None:
    background = np.full((3, 20, 20), 100 / 255, np.float32)  # mean 100 -> threshold l1 > 12.5
    image = np.full((3, 20, 20), 100, np.uint8)
    image[:, 5:15, 5:15] = 113  # l1 = 13 > 96/255 * 100 / 3 = 12.55
    image[:, 0:3, 0:3] = 112  # l1 = 12 < 12.55, and too small to survive the opening anyway
    noise = np.zeros((1, 20, 20), np.float32)
    rule = ForegroundRule(  # the paper's constants, without our real-camera steps
        alpha1=96 / 255, alpha2=7.0, close=0, open=0, hysteresis=0, shake=0
    )
    mask = foreground_mask(image, background, noise, rule)
    assert mask[5:15, 5:15].all() and mask.sum() == 100
    noise[:, 5:15, 5:15] = 0.5 / 255 / 7  # α₂·ê = 0.5: l1 − 0.5 = 12.5 < 12.55
    assert foreground_mask(image, background, noise, rule).sum() == 0
    speck = np.full((3, 30, 30), 100, np.uint8)
    speck[:, 8:10, 8:10] = 200  # 2×2 speck: removed by the opening (3×3 default, 7×7 paper)
    speck[:, 15:24, 15:24] = 200  # 9×9 with a pinhole: kept, the hole closed
    speck[:, 19, 19] = 100
    flat = np.full((3, 30, 30), 100 / 255, np.float32)
    for rule in (ForegroundRule(), ForegroundRule(close=5, open=7)):
        opened = foreground_mask(speck, flat, np.zeros((1, 30, 30), np.float32), rule)
        assert opened.sum() == 81 and opened[15:24, 15:24].all()


def _touching_squares() -> tuple[np.ndarray, np.ndarray]:
    """Two 20x20 squares meeting at a 6-pixel neck (one component), a 24-pixel speck, and
    the weights of a slot on each square."""
    fg = np.zeros((40, 60), np.uint8)
    fg[10:30, 5:45] = 1
    fg[10:17, 24:26] = fg[23:30, 24:26] = 0  # notches: the squares touch at rows 17..22
    fg[5:9, 52:58] = 1  # a small one no slot touches (24 pixels)
    weights = np.zeros((3, 40, 60), np.float32)
    weights[0] = 1.0
    weights[:, 10:30, 5:25] = np.array([0.2, 0.8, 0.0])[:, None, None]  # slot 0 on the left
    weights[:, 10:30, 25:45] = np.array([0.2, 0.0, 0.8])[:, None, None]  # slot 1 on the right
    return fg, weights


def test_fuse_labels_splits_a_shared_component_by_weight() -> None:
    fg, weights = _touching_squares()
    square = 20 * 20 - 2 * 7  # each square less its notch column
    fused = fuse_labels(fg, weights, np.array([True, True]), 80, 120, min_area=16)
    by_slot = {o.slot: o for o in fused.objects}
    assert set(by_slot) == {0, 1, -1}
    assert by_slot[0].area == by_slot[1].area == square * 4  # split at column 25 (x2 upscale)
    assert by_slot[0].bbox == (10, 20, 50, 60) and by_slot[1].bbox == (50, 20, 90, 60)
    assert by_slot[-1].area == 24 * 4 and by_slot[-1].unclaimed
    assert (fused.labels != 0).sum() == sum(o.area for o in fused.objects)
    # a slot under min_score claims nothing: its half joins no object but stays foreground
    weak = fuse_labels(fg, weights, np.array([True, False]), 80, 120, min_area=16)
    assert {o.slot for o in weak.objects} == {0, -1}
    assert [o.area for o in weak.objects if o.slot == 0] == [2 * square * 4]  # the component
    # components under min_area frame pixels leave the foreground
    strict = fuse_labels(fg, weights, np.array([True, True]), 80, 120, min_area=200)
    assert {o.slot for o in strict.objects} == {0, 1}
    assert (strict.labels != 0).sum() == 2 * square * 4


def test_fuse_labels_keeps_one_object_cut_across_by_two_glimpses() -> None:
    """Two slots whose cut runs right across a component (here 20 pixels next to a
    400-pixel piece) cover one object, not two that touch: one object, the larger slot's."""
    fg, weights = _touching_squares()
    fg[10:30, 24:26] = 1  # no notches: one 20x40 block
    fused = fuse_labels(fg, weights, np.array([True, True]), 80, 120, min_area=16)
    claimed = [o for o in fused.objects if not o.unclaimed]
    assert len(claimed) == 1 and claimed[0].area == 20 * 40 * 4


def test_cli_masks_from(camera_bundle_dir: Path, tmp_path: Path) -> None:
    from cli import app

    images = tmp_path / "frames"
    images.mkdir()
    for t in range(3):
        moved = [(x + 3 * t, y, r, c) for x, y, r, c in THREE]
        cv2.imwrite(str(images / f"{t:03d}.png"), scene(240, 320, moved))
    runner = CliRunner()
    # fixed-camera modes report a track once confirmed (third frame); slot mode at once
    for mode, counts in (("fused", [0, 0, 3]), ("background", [0, 0, 3]), ("slots", [2] * 3)):
        lines = tmp_path / f"{mode}.jsonl"
        result = runner.invoke(
            app,
            ["run", "--images", str(images), "--model", str(camera_bundle_dir),
             "--json", str(lines), "--masks-from", mode, "--quiet"],
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        records = [json.loads(line) for line in lines.read_text().splitlines()]
        assert [r["masks_from"] for r in records] == [mode] * 3
        assert [len(r["objects"]) for r in records] == counts
        # the background graph is its own stage: in the closing line and in each record
        assert ("background " in result.output) == (mode != "slots")
        assert all(("background" in r["timings_ms"]) == (mode != "slots") for r in records)
    bad = runner.invoke(
        app, ["run", "--images", str(images), "--model", str(camera_bundle_dir),
              "--masks-from", "disc"],
    )  # fmt: skip
    assert bad.exit_code == 2 and "--masks-from is 'disc'" in bad.output


def test_one_slot_over_two_separate_objects_gives_two_objects() -> None:
    fg = np.zeros((40, 60), np.uint8)
    fg[5:15, 5:15] = 1
    fg[25:35, 40:50] = 1
    weights = np.zeros((2, 40, 60), np.float32)
    weights[0] = 0.3
    weights[1] = 0.7  # one slot owns the whole frame in slot mode
    fused = fuse_labels(fg, weights, np.array([True]), 40, 60, min_area=16)
    assert [(o.slot, o.area, o.unclaimed) for o in fused.objects] == [(0, 100, False)] * 2
    assert sorted(o.bbox for o in fused.objects) == [(5, 5, 15, 15), (40, 25, 50, 35)]
    assert len({o.label for o in fused.objects}) == 2


def test_auto_skips_plans_that_lack_the_background_graph(
    camera_bundle_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    bundle = Path(shutil.copytree(camera_bundle_dir, tmp_path / "bundle"))
    manifest = json.loads((bundle / "astseg.json").read_text())
    for graph in ("encoder", "renderer"):  # slot plans only, as an older `--trt` export wrote
        (bundle / f"{graph}.engine").write_bytes(b"plan")
        (bundle / f"{graph}.engine.json").write_text("{}")
        manifest["files"][f"{graph}.engine"] = {}
        manifest["files"][f"{graph}.engine.json"] = {}
    manifest["engines"] = {
        g: {"plan": f"{g}.engine", "sidecar": f"{g}.engine.json"} for g in ("encoder", "renderer")
    }
    write_manifest(bundle, manifest)
    with caplog.at_level(logging.INFO, logger="astseg"):
        seg = Segmenter(bundle)
    assert seg.backend.name == "onnxruntime" and seg.masks_from == "fused"
    assert "they lack its background graph" in caplog.text


@pytest.mark.parametrize("frame", [(240, 320), (61, 83), (480, 640), (720, 1280)])
def test_fused_partition_holds_for_random_maps_at_any_frame_size(frame: tuple[int, int]) -> None:
    rng = np.random.default_rng(frame[0])
    fg = cv2.GaussianBlur(rng.random((120, 160)).astype(np.float32), (0, 0), 3) > 0.52
    weights = rng.random((5, 32, 32)).astype(np.float32) ** 4
    weights /= weights.sum(axis=0, keepdims=True)
    fused = fuse_labels(fg.astype(np.uint8), weights, np.array([1, 1, 0, 1], bool), *frame, 16)
    labels = fused.labels
    assert labels.shape == frame and len(fused.objects) > 3
    assert sorted(o.label for o in fused.objects) == sorted(set(np.unique(labels)) - {0})
    assert sum(o.area for o in fused.objects) == int((labels != 0).sum())
    for o in fused.objects:
        x0, y0, x1, y1 = o.bbox
        mine = labels == o.label
        assert int(mine.sum()) == o.area and int(mine[y0:y1, x0:x1].sum()) == o.area
        assert o.slot in (-1, 0, 1, 3)  # slot 2 is under min_score: it claims nothing


def test_a_real_background_model_graph_runs_in_fused_mode(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    from toy_bundle import add_background, build_toy_bundle

    from training.model.background import BackgroundModel

    class Graph(torch.nn.Module):  # the contract: uint8 RGB in, the graph divides by 255
        def __init__(self) -> None:
            super().__init__()
            self.model = BackgroundModel(48, 64)

        def forward(self, image):  # type: ignore[no-untyped-def]
            return self.model(image.float() / 255.0)

    torch.manual_seed(0)
    bundle = add_background(build_toy_bundle(tmp_path / "b", slots=2), 48, 64, module=Graph())
    seg = Segmenter(bundle, threads=1)
    assert seg.masks_from == "fused" and "background.onnx" in seg.backend_description
    out = seg.backend.run_background(np.zeros((3, 3, 48, 64), np.uint8))  # batch of 3 (dynamic)
    assert out.background.shape == (3, 3, 48, 64) and out.noise.shape == (3, 1, 48, 64)
    assert out.background.dtype == np.float32 and 0 <= out.noise.min() <= out.noise.max() <= 1
    results = seg.batch([scene(96, 128, THREE[:1]), scene(96, 128, [])])
    for result in results:  # an untrained background: whatever it marks is still a partition
        _assert_partition(result)
        assert result.foreground is not None and result.foreground.shape == (96, 128)
        assert result.timings.background_ms > 0


def test_two_slots_over_one_object_are_merged_and_touching_objects_are_not() -> None:
    fg = np.zeros((60, 60), np.uint8)
    fg[10:50, 10:50] = 1  # one 40×40 object
    weights = np.zeros((3, 60, 60), np.float32)
    weights[0] = 0.1
    weights[1, :, :20], weights[2, :, 20:] = 0.9, 0.9  # slot 0 takes a 40×10 strip of it
    fused = fuse_labels(fg, weights, np.array([True, True]), 60, 60, min_area=16)
    # the cut (40 pixels) is twice √400 of the strip: one object, the larger piece's slot 1
    assert [(o.slot, o.area) for o in fused.objects] == [(1, 1600)]
    fg[:] = 0
    fg[10:50, 5:25] = fg[20:40, 25:55] = 1  # two objects touching along a 20-pixel neck
    weights[1], weights[2] = 0.0, 0.0
    weights[1, :, :25], weights[2, :, 25:] = 0.9, 0.9
    apart = fuse_labels(fg, weights, np.array([True, True]), 60, 60, min_area=16)
    assert sorted((o.slot, o.area) for o in apart.objects) == [(0, 800), (1, 600)]
