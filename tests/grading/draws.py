"""The inputs of a grading, drawn from the seed the grader drew (shared by every probe, copied into each
graded tree, and by the judges, which rebuild the same inputs from the same seed)."""

import torch


def draw(seed: int, n: int) -> torch.Generator:
    """The n-th generator of a grading: different inputs for each check, all fixed by the seed."""
    return torch.Generator().manual_seed(seed + n * 2**32)


def hidden(seed: int, n: int, shape: tuple[int, int, int]) -> tuple[torch.Tensor, torch.Tensor]:
    """Hidden states (B, L, H) and keep (B, L) with the second sequence padded from a drawn position on."""
    g = draw(seed, n)
    x = torch.randn(shape, generator=g)
    keep = torch.ones(shape[:2], dtype=torch.long)
    keep[1, int(torch.randint(2, shape[1], (), generator=g)):] = 0
    return x, keep
