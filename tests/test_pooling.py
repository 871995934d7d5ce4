"""Pooling strategies against values computed by hand on a padded batch."""

import json

import pytest
import torch
from torch.testing import assert_close

from minisbert import ConfigError
from minisbert.pooling import Pooling, l2_normalize

# Two sentences, 3 positions, H = 2; the second sentence has one padding position
# whose vector (100, -100) must never leak into any result.
TOKENS = torch.tensor([[[1.0, 2.0], [3.0, 4.0], [5.0, 0.0]],
                       [[2.0, -2.0], [4.0, 6.0], [100.0, -100.0]]])
MASK = torch.tensor([[1, 1, 1], [1, 1, 0]])

BY_HAND = {
    "mean": [[3.0, 2.0], [3.0, 2.0]],  # (1+3+5)/3, (2+4+0)/3 ; (2+4)/2, (-2+6)/2
    "max": [[5.0, 4.0], [4.0, 6.0]],
    "cls": [[1.0, 2.0], [2.0, -2.0]],
    "mean_sqrt_len_tokens": [[9 / 3 ** 0.5, 6 / 3 ** 0.5], [6 / 2 ** 0.5, 4 / 2 ** 0.5]],
    "weightedmean": [[(1 + 6 + 15) / 6, (2 + 8 + 0) / 6], [(2 + 8) / 3, (-2 + 12) / 3]],  # weights 1, 2, 3
    "lasttoken": [[5.0, 0.0], [4.0, 6.0]],
}


@pytest.mark.parametrize("mode", BY_HAND)
def test_each_mode_by_hand(mode):
    assert_close(Pooling(2, mode)(TOKENS, MASK), torch.tensor(BY_HAND[mode]))


def test_modes_concatenate_in_sentence_transformers_order():
    out = Pooling(2, ["mean", "cls"])(TOKENS, MASK)  # cls always comes before mean
    assert_close(out, torch.cat([torch.tensor(BY_HAND["cls"]), torch.tensor(BY_HAND["mean"])], dim=1))
    assert Pooling(2, ["mean", "cls"]).output_dimension == 4


def test_l2_normalize():
    v = l2_normalize(torch.tensor([[3.0, 4.0]]))
    assert_close(v, torch.tensor([[0.6, 0.8]]))


def test_config_old_and_new_forms(tmp_path):
    old = tmp_path / "old.json"
    old.write_text(json.dumps({"word_embedding_dimension": 2, "pooling_mode_mean_tokens": True,
                               "pooling_mode_max_tokens": True, "pooling_mode_cls_token": False}))
    assert Pooling.from_config(old, 2).modes == ["max", "mean"]
    new = tmp_path / "new.json"
    new.write_text(json.dumps({"embedding_dimension": 2, "pooling_mode": "weightedmean"}))
    assert Pooling.from_config(new, 2).modes == ["weightedmean"]
    written = tmp_path / "written.json"
    written.write_text(json.dumps(Pooling(2, ["cls", "max"]).config()))
    assert Pooling.from_config(written, 2).modes == ["cls", "max"]


def test_bad_configs_are_named(tmp_path):
    with pytest.raises(ConfigError, match=r"\['median'\] are not known"):
        Pooling(2, "median")
    cfg = tmp_path / "c.json"
    cfg.write_text(json.dumps({"word_embedding_dimension": 768, "pooling_mode_mean_tokens": True}))
    with pytest.raises(ConfigError, match="size 768, but the encoder gives 384"):
        Pooling.from_config(cfg, 384)
