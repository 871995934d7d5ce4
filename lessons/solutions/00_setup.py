"""Lesson 00, exercises: run `python solutions/00_setup.py` from lessons/."""
import torch

from minisbert import pick_device
from minisbert.course.check import CheckFailed, check_close, reference

# 1. The course on another device: pick_device("cpu") or pick_device("cuda") (or MINISBERT_DEVICE=...).
for name in ["cpu"] + (["cuda"] if torch.cuda.is_available() else []):
    device = pick_device(name)
    check_close("setup.product", reference("setup.a").to(device) @ reference("setup.b").to(device))

# 2. Failing on purpose: a wrong shape, then a NaN.
a, b = reference("setup.a"), reference("setup.b")
for wrong in (a[:2] @ b, (a @ b).index_put((torch.tensor([0]), torch.tensor([1])), torch.tensor(float("nan")))):
    try:
        check_close("setup.product", wrong)
    except CheckFailed as e:
        print("failed as expected:", str(e).splitlines()[0])
