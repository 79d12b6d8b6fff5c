import pytest
import torch
from transformers import SegformerConfig, SegformerForSemanticSegmentation

from tests.conftest import TINY_SEGFORMER
from training.config import ConfigError
from training.model import ASTSeg, segformer_generator


def test_backbone_loads_with_from_pretrained_from_a_local_directory(tmp_path, tiny_config):
    torch.manual_seed(1)
    saved = SegformerForSemanticSegmentation(SegformerConfig(**TINY_SEGFORMER, num_labels=5))
    saved.save_pretrained(tmp_path / "tiny-mit")
    cfg = tiny_config(backbone=str(tmp_path / "tiny-mit"), segformer_overrides={})
    model = ASTSeg(cfg)
    net = model.encoder.map_generator.net
    loaded = dict(net.segformer.named_parameters())
    for name, param in saved.segformer.named_parameters():
        assert torch.equal(loaded[name], param), name
    # The decode head is new: sized d_Φ + K, not the checkpoint's 5 labels.
    assert net.decode_head.classifier.out_channels == cfg.num_slots + cfg.slot_feature_dim
    with torch.no_grad():
        out = model(torch.rand(1, 3, 64, 64))
    assert out.weights.shape == (1, cfg.num_slots + 1, 64, 64)


def test_hub_names_go_through_the_same_from_pretrained_call(monkeypatch, tiny_config):
    seen = {}

    def fake_from_pretrained(name, **kwargs):
        seen["name"] = name
        seen["num_labels"] = kwargs["num_labels"]
        return SegformerForSemanticSegmentation(
            SegformerConfig(**TINY_SEGFORMER, num_labels=kwargs["num_labels"])
        )

    monkeypatch.setattr(
        SegformerForSemanticSegmentation, "from_pretrained", staticmethod(fake_from_pretrained)
    )
    cfg = tiny_config(backbone="nvidia/mit-b3", segformer_overrides={})
    ASTSeg(cfg)
    assert seen == {"name": "nvidia/mit-b3", "num_labels": cfg.num_slots + cfg.slot_feature_dim}


def test_missing_backbone_directory_is_a_clear_config_error(tmp_path, tiny_config):
    with pytest.raises(ConfigError, match="model.backbone") as err:
        ASTSeg(tiny_config(backbone=str(tmp_path / "nowhere")))
    assert err.value.field == "model.backbone"


def test_unreachable_hub_name_is_a_clear_config_error(monkeypatch, tiny_config):
    def offline(name, **kwargs):
        raise OSError("We couldn't connect to 'https://huggingface.co'")

    monkeypatch.setattr(SegformerForSemanticSegmentation, "from_pretrained", staticmethod(offline))
    with pytest.raises(ConfigError, match="could not load Segformer weights 'nvidia/mit-b3'"):
        segformer_generator.SegformerGenerator(10, "nvidia/mit-b3")
