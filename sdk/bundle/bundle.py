"""Open a model bundle (a directory or a `.zip` of one) and prove it is whole.

A bundle is accepted only when its manifest validates and every file it lists is
present with the listed size and sha256: a truncated download or a hand-edited
graph fails here with one sentence, not later as a confusing inference error.
Zips are extracted once, safely, into the user cache keyed by the archive's hash.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sdk.bundle.archive import MAX_TOTAL_BYTES, extract_archive, remove_tree
from sdk.bundle.cache import cache_dir
from sdk.bundle.manifest import MANIFEST_NAME, Manifest, read_manifest
from sdk.errors import BundleError

log = logging.getLogger("astseg")

DEFAULT_BUNDLE_DIR = Path(__file__).resolve().parents[1] / "models" / "default"
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Bundle:
    """A validated bundle on disk: its files live in `root`."""

    root: Path
    source: Path
    manifest: Manifest

    def path(self, name: str) -> Path:
        """Path of a file the manifest lists."""
        return self.root / name

    @property
    def name(self) -> str:
        return self.source.name


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in chunks so large graphs do not fill memory."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _verify_files(root: Path, manifest: Manifest, shown: str) -> None:
    again = "copy the whole bundle again or re-export it with `astseg export`"
    for name, spec in manifest.files.items():
        path = root / name
        if not path.is_file():
            raise BundleError(
                f"bundle {shown} is missing {name}, which its {MANIFEST_NAME} lists; {again}."
            )
        size = path.stat().st_size
        if size != spec.bytes:
            raise BundleError(
                f"{name} in bundle {shown} is {size} bytes but its {MANIFEST_NAME} says "
                f"{spec.bytes} (truncated or changed); {again}."
            )
        if sha256_file(path) != spec.sha256:
            raise BundleError(
                f"{name} in bundle {shown} does not match the sha256 in its {MANIFEST_NAME} "
                f"(corrupt or changed); {again}."
            )


def _bundle_root(directory: Path) -> Path:
    """The directory holding astseg.json: the archive root or its single top folder."""
    if (directory / MANIFEST_NAME).is_file():
        return directory
    children = [p for p in directory.iterdir() if not p.name.startswith("__MACOSX")]
    if len(children) == 1 and children[0].is_dir() and (children[0] / MANIFEST_NAME).is_file():
        return children[0]
    return directory


def _extract_cached(zip_path: Path, max_total_bytes: int) -> Path:
    """Extract once per archive content into the cache; reuse it afterwards."""
    digest = sha256_file(zip_path)
    bundles = cache_dir("bundles")
    final = bundles / digest[:32]
    if final.is_dir():
        return final
    staging = Path(tempfile.mkdtemp(prefix=".extract-", dir=bundles))
    try:
        extract_archive(zip_path, staging, max_total_bytes=max_total_bytes)
        os.replace(staging, final)  # atomic: a reader never sees a half-extracted bundle
    except OSError:
        remove_tree(staging)
        if not final.is_dir():  # another process won the race otherwise
            raise
    except BaseException:
        remove_tree(staging)
        raise
    return final


def load_bundle(
    model: str | os.PathLike[str] | None = None, *, max_zip_bytes: int = MAX_TOTAL_BYTES
) -> Bundle:
    """Open and validate a bundle; ``None`` means the default bundle shipped with astseg."""
    if model is None:
        source = DEFAULT_BUNDLE_DIR
        if not (source / MANIFEST_NAME).is_file():
            raise BundleError(
                f"the default model is not installed (no bundle at {source}); pass a bundle "
                "written by `astseg export` (model=PATH, or --model PATH), or reinstall astseg."
            )
    else:
        source = Path(model).expanduser()
    shown = str(source)
    if not source.exists():
        raise BundleError(
            f"model bundle {shown} does not exist; "
            "pass a directory or .zip written by `astseg export`."
        )
    if source.is_file() and source.name == MANIFEST_NAME:
        source = source.parent
    if source.is_dir():
        root = _bundle_root(source)
    elif source.suffix.lower() == ".zip":
        return _open_zip(source, shown, max_zip_bytes)
    else:
        raise BundleError(
            f"model bundle {shown} is neither a directory nor a .zip; "
            "pass what `astseg export` wrote."
        )
    manifest = read_manifest(root, shown)
    _verify_files(root, manifest, shown)
    return Bundle(root=root, source=source, manifest=manifest)


def _open_zip(source: Path, shown: str, max_zip_bytes: int) -> Bundle:
    """A zip's cached extraction, extracted afresh when the cached copy fails its checks.

    The cache is keyed by the zip's hash, so a cached copy changed after extraction would
    otherwise fail forever, blaming the intact zip and every fresh copy of it. Only a fresh
    extraction that still fails speaks for the zip itself.
    """
    extracted = _extract_cached(source, max_zip_bytes)
    root = _bundle_root(extracted)
    try:
        manifest = read_manifest(root, shown)
        _verify_files(root, manifest, shown)
    except BundleError:
        log.warning(
            f"astseg: the extracted copy of {shown} in {extracted} no longer matches its "
            "manifest (changed after extraction); extracting the zip again"
        )
        _discard(extracted)
        root = _bundle_root(_extract_cached(source, max_zip_bytes))
        manifest = read_manifest(root, shown)
        _verify_files(root, manifest, shown)
    return Bundle(root=root, source=source, manifest=manifest)


def _discard(extracted: Path) -> None:
    """Moves a bad cache entry aside first, so no reader meets it half removed."""
    trash = extracted.with_name(f".discard-{extracted.name}-{os.getpid()}")
    try:
        os.replace(extracted, trash)
    except OSError:
        return  # another process already replaced or removed it
    remove_tree(trash)
