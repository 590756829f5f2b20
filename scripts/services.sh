#!/usr/bin/env bash
# Install and start what the race server's tests use besides Python: PostgreSQL (the server's
# tests run on it as well as on SQLite) and Chromium (the browser tests). Debian/Ubuntu, as
# root. Prints the variables to export; .ci/run sources it.
set -euo pipefail
need=()
command -v pg_ctlcluster >/dev/null 2>&1 || need+=(postgresql)
[ -x /usr/bin/chromium ] || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
read -r version cluster _ < <(pg_lsclusters --no-header | head -n 1)
pg_ctlcluster "$version" "$cluster" start 2>/dev/null || true
for _ in $(seq 30); do
  su postgres -c "psql -qtAc 'SELECT 1'" >/dev/null 2>&1 && break
  sleep 1
done
if ! su postgres -c "psql -qtAc \"SELECT 1 FROM pg_roles WHERE rolname = 'racer'\"" | grep -q 1; then
  su postgres -c "psql -qc \"CREATE ROLE racer LOGIN PASSWORD 'racer' CREATEDB\""
fi
export RACER_TEST_POSTGRES_URL="postgresql://racer:racer@127.0.0.1/postgres"
export RACER_TEST_POSTGRES_REQUIRED=1
export RACER_TEST_BROWSER_REQUIRED=1
echo "PostgreSQL $version/$cluster up; Chromium at /usr/bin/chromium"
