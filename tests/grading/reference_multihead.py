"""Reference of 'multihead' for the other assignments' probes (never in the graded tree of 'multihead')."""


def ref_split_heads(self, x):  # (B, L, H) -> (B, h, L, d)
    B, L, _ = x.shape
    return x.reshape(B, L, self.num_heads, self.head_dim).permute(0, 2, 1, 3)


def ref_merge_heads(self, x):  # (B, h, L, d) -> (B, L, h * d)
    B, h, L, d = x.shape
    return x.permute(0, 2, 1, 3).reshape(B, L, h * d)


def install():
    from minisbert.attention import MultiHeadAttention
    MultiHeadAttention.split_heads, MultiHeadAttention.merge_heads = ref_split_heads, ref_merge_heads
