import pytest
import torch

from tests.conftest import tiny_model_config
from training.checkpoint import CheckpointError, load_model, save_checkpoint
from training.config import Config
from training.model import ASTSeg


def _save(path, cfg):
    model = ASTSeg(cfg.model)
    save_checkpoint(path, {"config": cfg.to_dict(), "model": model.state_dict(), "step": 3})
    return model


def test_a_checkpoint_alone_rebuilds_its_model(tmp_path):
    cfg = Config(model=tiny_model_config(num_slots=4, scaling="isotropic"))
    torch.manual_seed(0)
    model = _save(tmp_path / "run" / "checkpoints" / "latest.pt", cfg)
    loaded, loaded_cfg, data = load_model(tmp_path / "run")
    assert loaded_cfg == cfg and data["step"] == 3
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        assert torch.equal(model.eval()(x).weights, loaded(x).weights)
    assert not list((tmp_path / "run" / "checkpoints").glob("*.tmp"))


def test_a_pickle_that_would_run_code_is_refused(tmp_path):
    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    path = tmp_path / "evil.pt"
    torch.save({"format": "astseg-checkpoint", "version": 1, "x": Exploit()}, path)
    with pytest.raises(CheckpointError, match="refused for safety"):
        load_model(path)
    assert not marker.exists()


def test_truncated_and_foreign_files_are_clear_errors(tmp_path):
    cfg = Config(model=tiny_model_config())
    _save(tmp_path / "good.pt", cfg)
    data = (tmp_path / "good.pt").read_bytes()
    (tmp_path / "half.pt").write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="corrupt or truncated"):
        load_model(tmp_path / "half.pt")
    (tmp_path / "empty.pt").write_bytes(b"")
    with pytest.raises(CheckpointError, match="is empty"):
        load_model(tmp_path / "empty.pt")
    torch.save({"weights": torch.zeros(1)}, tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match="not an astseg checkpoint"):
        load_model(tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match="does not exist"):
        load_model(tmp_path / "missing.pt")


def test_weights_from_another_config_are_named_as_a_mismatch(tmp_path):
    cfg = Config(model=tiny_model_config(num_slots=3))
    other = ASTSeg(tiny_model_config(num_slots=5))
    save_checkpoint(tmp_path / "x.pt", {"config": cfg.to_dict(), "model": other.state_dict()})
    with pytest.raises(CheckpointError, match="does not match the model its config describes"):
        load_model(tmp_path / "x.pt")
