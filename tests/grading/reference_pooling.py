"""Reference of 'pooling' for the other assignments' probes (never in the graded tree of 'pooling')."""

import torch


def ref_mean(tokens, mask):  # (B, L, H), (B, L) -> (B, H)
    m = mask[..., None].to(tokens.dtype)
    return (tokens * m).sum(1) / m.sum(1)


def ref_max(tokens, mask):
    return torch.where(mask[..., None].bool(), tokens, torch.finfo(tokens.dtype).min).amax(1)


def ref_cls(tokens, mask):
    return tokens[:, 0]


def install():
    from minisbert import pooling
    pooling.POOL.update(mean=ref_mean, max=ref_max, cls=ref_cls)
