"""Bundle loading: a whole bundle opens; every kind of damaged or hostile bundle is refused."""

from __future__ import annotations

import json
import os
import stat
import zipfile
from pathlib import Path

import pytest
from toy_bundle import write_manifest, zip_bundle

from sdk import BundleError, Segmenter, load_bundle
from sdk.bundle.archive import extract_archive
from sdk.bundle.bundle import DEFAULT_BUNDLE_DIR
from sdk.bundle.manifest import MANIFEST_NAME, parse_manifest


def _manifest(bundle: Path) -> dict:
    return json.loads((bundle / "astseg.json").read_text())


def test_valid_bundle_loads_with_its_model_spec(toy_bundle_dir: Path) -> None:
    bundle = load_bundle(toy_bundle_dir)
    spec = bundle.manifest.model
    assert (spec.image_height, spec.image_width, spec.num_slots, spec.z_what_dim) == (64, 64, 4, 8)
    assert spec.scale_dim == 2
    assert set(bundle.manifest.graphs) == {"encoder", "renderer"}
    assert bundle.manifest.batch.max == 8


def test_the_manifest_reads_back_to_the_bytes_export_wrote() -> None:
    """One shape: `Manifest.to_dict()` (what export writes) of what the runtime read is the
    shipped bundle's astseg.json, key for key and byte for byte."""
    text = (DEFAULT_BUNDLE_DIR / MANIFEST_NAME).read_text(encoding="utf-8")
    written = parse_manifest(json.loads(text), "default").to_dict()
    assert json.dumps(written, indent=2, allow_nan=False) + "\n" == text


def test_manifest_path_itself_is_accepted(toy_bundle_dir: Path) -> None:
    assert load_bundle(toy_bundle_dir / "astseg.json").root == toy_bundle_dir


def test_missing_file_is_named(bundle_copy: Path) -> None:
    (bundle_copy / "renderer.onnx").unlink()
    with pytest.raises(BundleError, match=r"missing renderer\.onnx"):
        load_bundle(bundle_copy)


def test_changed_file_fails_the_hash(bundle_copy: Path) -> None:
    data = bytearray((bundle_copy / "encoder.onnx").read_bytes())
    data[-1] ^= 0xFF  # same size, different content
    (bundle_copy / "encoder.onnx").write_bytes(bytes(data))
    with pytest.raises(BundleError, match=r"encoder\.onnx .* does not match the sha256"):
        load_bundle(bundle_copy)


def test_truncated_file_fails_the_size_check(bundle_copy: Path) -> None:
    path = bundle_copy / "encoder.onnx"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(BundleError, match=r"encoder\.onnx .* bytes but its astseg\.json says"):
        load_bundle(bundle_copy)


def test_truncated_onnx_with_matching_manifest_is_refused_by_onnxruntime(bundle_copy: Path) -> None:
    path = bundle_copy / "encoder.onnx"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    write_manifest(bundle_copy, _manifest(bundle_copy))  # hashes now match the damaged file
    with pytest.raises(BundleError, match=r"encoder\.onnx .* cannot be loaded by onnxruntime"):
        Segmenter(bundle_copy)


def test_graph_that_breaks_the_contract_is_refused(bundle_copy: Path) -> None:
    (bundle_copy / "encoder.onnx").write_bytes((bundle_copy / "renderer.onnx").read_bytes())
    write_manifest(bundle_copy, _manifest(bundle_copy))
    with pytest.raises(BundleError, match=r"encoder\.onnx .* has no input 'image'"):
        Segmenter(bundle_copy)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"format_version": 2}, r"format_version 2, which this astseg runtime does not know"),
        ({"format_version": True}, r"format_version True"),
        ({"format": "something-else"}, r"not an astseg bundle manifest"),
    ],
)
def test_unknown_format_or_version(bundle_copy: Path, change: dict, message: str) -> None:
    manifest = _manifest(bundle_copy)
    manifest.update(change)
    (bundle_copy / "astseg.json").write_text(json.dumps(manifest))
    with pytest.raises(BundleError, match=message):
        load_bundle(bundle_copy)


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("model", "num_slots"), "4", r"'model\.num_slots' is missing or not an integer"),
        (("model", "image_height"), 0, r"'model\.image_height' is 0, below the minimum 1"),
        (("model", "scaling"), "diagonal", r"'model\.scaling' is 'diagonal'"),
        (("model", "s_min"), 30.0, r"'model\.s_min' and s_max"),
        (("model", "input"), {"channels": "BGR"}, r"'model\.input\.channels' is 'BGR'"),
        (("batch", "dynamic"), "yes", r"'batch\.dynamic' is missing or not true/false"),
        (("graphs", "encoder"), "../encoder.onnx", r"not a plain file name"),
        (("graphs", "extra"), "x.onnx", r"'graphs\.extra' is not one of"),
    ],
)
def test_wrong_types_and_values_name_the_field(
    bundle_copy: Path, path: tuple[str, str], value: object, message: str
) -> None:
    manifest = _manifest(bundle_copy)
    manifest[path[0]][path[1]] = value
    (bundle_copy / "astseg.json").write_text(json.dumps(manifest))
    with pytest.raises(BundleError, match=message):
        load_bundle(bundle_copy)


def test_graph_not_listed_in_files_is_refused(bundle_copy: Path) -> None:
    manifest = _manifest(bundle_copy)
    del manifest["files"]["renderer.onnx"]
    (bundle_copy / "astseg.json").write_text(json.dumps(manifest))
    with pytest.raises(BundleError, match=r"does not list renderer\.onnx"):
        load_bundle(bundle_copy)


def test_duplicate_keys_and_nan_are_refused(bundle_copy: Path) -> None:
    text = (bundle_copy / "astseg.json").read_text()
    (bundle_copy / "astseg.json").write_text(
        text.replace('"opset": 17', '"opset": 17, "opset": 18')
    )
    with pytest.raises(BundleError, match=r"key 'opset' appears twice"):
        load_bundle(bundle_copy)
    (bundle_copy / "astseg.json").write_text(text.replace('"opset": 17', '"opset": NaN'))
    with pytest.raises(BundleError, match=r"'NaN' is not allowed"):
        load_bundle(bundle_copy)


def test_not_json_and_missing_manifest(bundle_copy: Path, tmp_path: Path) -> None:
    (bundle_copy / "astseg.json").write_text("{ not json")
    with pytest.raises(BundleError, match=r"astseg\.json in .* is not valid: line 1"):
        load_bundle(bundle_copy)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(BundleError, match=r"has no astseg\.json"):
        load_bundle(empty)


def test_missing_path_and_default_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(BundleError, match=r"does not exist"):
        load_bundle(tmp_path / "nope")
    monkeypatch.setattr("sdk.bundle.bundle.DEFAULT_BUNDLE_DIR", tmp_path / "models" / "default")
    with pytest.raises(BundleError, match=r"the default model is not installed"):
        Segmenter()


def test_zip_bundle_extracts_once_into_the_cache(toy_bundle_dir: Path, tmp_path: Path) -> None:
    archive = zip_bundle(toy_bundle_dir, tmp_path / "model.zip")
    first = load_bundle(archive)
    assert first.root != toy_bundle_dir and (first.root / "encoder.onnx").is_file()
    assert str(first.root).startswith(os.environ["ASTSEG_CACHE_DIR"])
    mtime = (first.root / "encoder.onnx").stat().st_mtime_ns
    second = load_bundle(archive)
    assert second.root == first.root
    assert (second.root / "encoder.onnx").stat().st_mtime_ns == mtime  # reused, not re-extracted


def test_zip_of_the_folder_itself_is_accepted(toy_bundle_dir: Path, tmp_path: Path) -> None:
    archive = tmp_path / "nested.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in toy_bundle_dir.iterdir():
            zf.write(path, f"my_bundle/{path.name}")
    assert load_bundle(archive).root.name == "my_bundle"


@pytest.mark.parametrize(
    "name", ["../evil.txt", "/tmp/evil.txt", "sub/../../evil.txt", "C:/evil.txt"]
)
def test_zip_slip_is_refused_before_writing(tmp_path: Path, name: str) -> None:
    archive = tmp_path / "slip.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("astseg.json", "{}")
        zf.writestr(name, "owned")
    with pytest.raises(BundleError, match=r"points outside the bundle"):
        load_bundle(archive)
    assert not (tmp_path.parent / "evil.txt").exists()
    assert not Path("/tmp/evil.txt").exists()


def test_symlink_entry_is_refused(tmp_path: Path) -> None:
    archive = tmp_path / "link.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        info = zipfile.ZipInfo("encoder.onnx")
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(info, "/etc/passwd")
    with pytest.raises(BundleError, match=r"symbolic link"):
        load_bundle(archive)


def test_zip_bomb_is_refused_by_declared_size(tmp_path: Path) -> None:
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("astseg.json", "{}")
        zf.writestr("encoder.onnx", b"\0" * (4 << 20))  # 4 MiB of zeros compress to ~4 KiB
    assert archive.stat().st_size < 64 << 10
    dest = tmp_path / "out"
    dest.mkdir()
    with pytest.raises(BundleError, match=r"would expand to 4194\d+ bytes.*possible zip bomb"):
        extract_archive(archive, dest, max_total_bytes=1 << 20)
    assert list(dest.iterdir()) == []
    with pytest.raises(BundleError, match=r"possible zip bomb"):
        load_bundle(archive, max_zip_bytes=1 << 20)


def test_entry_larger_than_declared_is_cut_off(tmp_path: Path) -> None:
    archive = tmp_path / "liar.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("encoder.onnx", b"x" * 1000)
    raw = bytearray(archive.read_bytes())
    # lower the declared size in both the local header and the central directory
    for offset in (22, raw.rfind(b"PK\x01\x02") + 24):
        raw[offset : offset + 4] = (10).to_bytes(4, "little")
    archive.write_bytes(bytes(raw))
    dest = tmp_path / "out"
    dest.mkdir()
    with pytest.raises(BundleError):
        extract_archive(archive, dest)
    written = dest / "encoder.onnx"
    assert not written.exists() or written.stat().st_size <= 10


def test_not_a_zip(tmp_path: Path) -> None:
    fake = tmp_path / "model.zip"
    fake.write_text("hello")
    with pytest.raises(BundleError, match=r"not a readable zip archive"):
        load_bundle(fake)
