"""Reference of 'embeddings' for the other assignments' probes (never in the graded tree of 'embeddings')."""

import torch
import torch.nn.functional as F


def ref_embeddings_forward(self, input_ids, token_type_ids):
    positions = torch.arange(input_ids.size(1), device=input_ids.device)
    x = F.embedding(input_ids, self.token_weight()) + self.position_embeddings(positions) \
        + self.token_type_embeddings(token_type_ids)  # (B, L, H)
    return self.dropout(self.LayerNorm(x))


def install():
    from minisbert import bert
    bert.BertEmbeddings.forward = ref_embeddings_forward
