#!/usr/bin/env bash
# Create .venv (if needed) and install racer with a CPU build of PyTorch.
# Usage: source scripts/setup.sh; RACER_EXTRAS=dev adds the test tools.
# Other machines: set RACER_TORCH_INDEX=https://download.pytorch.org/whl/cpu to take PyTorch's
# CPU wheels instead of the default index (which would bring CUDA packages on most Linux PCs).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
extras="${RACER_EXTRAS:-}"
py="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$py" -m venv .venv
fi
# shellcheck disable=SC1091
. .venv/bin/activate
python -m pip install --quiet --upgrade pip
if ! python -c "import torch" 2>/dev/null; then
  if [ -n "${RACER_TORCH_INDEX:-}" ]; then
    python -m pip install --quiet "torch==2.13.0" --index-url "$RACER_TORCH_INDEX"
  else
    python -m pip install --quiet "torch==2.13.0"
  fi
fi
if [ -n "$extras" ]; then
  python -m pip install --quiet -e ".[train,export,tune,server,$extras]"
else
  python -m pip install --quiet -e ".[train,export,tune,server]"
fi
