#!/usr/bin/env bash
# One command on a fresh machine: set up racer with its test tools, lint, type-check, test.
set -euo pipefail
cd "$(dirname "$0")/.."
export RACER_EXTRAS=dev
source scripts/setup.sh
ruff check racer tests benchmarks reward_functions
ruff format --check racer tests benchmarks reward_functions
mypy
python -m pytest -n 2 -q "$@"
