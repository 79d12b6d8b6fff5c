"""Fixtures of the reliability matrix: a toy bundle, tiny training runs, damaged media.

The matrix reuses the contract-following toy bundle and media helpers of tests/sdk and the
tiny trainer fixtures of tests/training/trainer, so every row runs in well under a second of model
work on one core.
"""

from __future__ import annotations

import logging
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
for helper_dir in (HERE, HERE.parent / "sdk", HERE.parent / "training" / "trainer"):
    if str(helper_dir) not in sys.path:
        sys.path.insert(0, str(helper_dir))

from reliability_cli import assert_success, astseg  # noqa: E402
from reliability_media import corrupt_frame_video, count_frames, disc_frames, write_mp4  # noqa: E402
from toy_bundle import build_toy_bundle  # noqa: E402
from trainer_fixtures import DATA_SPEC, tiny_yaml  # noqa: E402


@pytest.fixture(scope="session")
def toy_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The runtime tests' toy bundle: 64x64, K = 4, encoder + renderer graphs."""
    return build_toy_bundle(tmp_path_factory.mktemp("toy") / "bundle")


@pytest.fixture
def bundle_copy(toy_bundle: Path, tmp_path: Path) -> Path:
    """A private copy a row may damage."""
    return Path(shutil.copytree(toy_bundle, tmp_path / "bundle"))


@pytest.fixture(scope="session")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """30 frames of 96x128 with two moving discs, MPEG-4 in MP4 (index at the end)."""
    path = write_mp4(tmp_path_factory.mktemp("clip") / "clip.mp4", disc_frames(30))
    assert count_frames(path) == 30  # whole before any row damages a copy of it
    return path


@pytest.fixture(scope="session")
def corrupt_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """30 Motion-JPEG frames whose frame 15 is zeroed: it alone cannot be decoded."""
    return corrupt_frame_video(tmp_path_factory.mktemp("corrupt") / "corrupt.avi", 30, 15)


@pytest.fixture(scope="session")
def tiny_config_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny trainer config (32x32, K = 2, 2 + 4 steps) as a YAML file."""
    return tiny_yaml(tmp_path_factory.mktemp("cfg") / "tiny.yaml")


@pytest.fixture(scope="session")
def finished_run(tmp_path_factory: pytest.TempPathFactory, tiny_config_file: Path) -> Path:
    """A tiny run that completed its 6 steps (rows that change it work on a copy)."""
    run = tmp_path_factory.mktemp("finished") / "run"
    outcome = astseg(
        "train", "--preset", "cpu", "--config", tiny_config_file, "--data", DATA_SPEC,
        "--out", run, "--device", "cpu",
    )  # fmt: skip
    assert_success(outcome)
    return run


@pytest.fixture(autouse=True)
def private_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Extracted bundles go to a cache of this session, never the user's."""
    cache = tmp_path_factory.getbasetemp() / "cache"
    monkeypatch.setenv("ASTSEG_CACHE_DIR", str(cache))
    return cache


@pytest.fixture(autouse=True)
def restore_astseg_logger() -> Iterator[None]:
    """`astseg run` configures the 'astseg' logger; give every row the default again."""
    logger = logging.getLogger("astseg")
    saved = (list(logger.handlers), logger.level, logger.propagate)
    yield
    logger.handlers[:] = saved[0]
    logger.setLevel(saved[1])
    logger.propagate = saved[2]
