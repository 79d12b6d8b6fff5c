"""Shared fixtures: toy bundles built once per session, small generated videos, a private cache."""

from __future__ import annotations

import logging
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sdk_media import moving_discs, write_video  # noqa: E402
from toy_bundle import add_background, build_toy_bundle  # noqa: E402


@pytest.fixture(scope="session")
def toy_bundle_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Encoder + renderer graphs (no fused graph), 64×64, K = 4, anisotropic."""
    return build_toy_bundle(tmp_path_factory.mktemp("toy") / "bundle")


@pytest.fixture(scope="session")
def fused_bundle_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Same model with the fused segmenter.onnx, isotropic scaling."""
    return build_toy_bundle(
        tmp_path_factory.mktemp("toy_fused") / "bundle", fused=True, isotropic=True
    )


@pytest.fixture(scope="session")
def camera_bundle_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The toy model with a fixed-camera background.onnx (120×160, a dark grey camera)."""
    bundle = build_toy_bundle(tmp_path_factory.mktemp("toy_camera") / "bundle", slots=2)
    return add_background(bundle)


@pytest.fixture
def bundle_copy(toy_bundle_dir: Path, tmp_path: Path) -> Path:
    """A private copy a test may damage."""
    return Path(shutil.copytree(toy_bundle_dir, tmp_path / "bundle"))


@pytest.fixture(autouse=True)
def private_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ASTSEG_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))


@pytest.fixture(autouse=True)
def restore_astseg_logger() -> Iterator[None]:
    """The CLI configures the 'astseg' logger; give every test the default again."""
    logger = logging.getLogger("astseg")
    saved = (list(logger.handlers), logger.level, logger.propagate)
    yield
    logger.handlers[:] = saved[0]
    logger.setLevel(saved[1])
    logger.propagate = saved[2]


@pytest.fixture(scope="session")
def short_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """30 frames of 160×120 with two moving discs."""
    return write_video(tmp_path_factory.mktemp("video") / "clip.mp4", moving_discs(30))
