#!/usr/bin/env bash
# One command on a fresh machine: set up racer, then run its main job.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
racer demo "$@"
