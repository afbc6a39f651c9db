#!/usr/bin/env bash
# The benchmark (bench/run.py), after the set-up `make test` uses:
#   scripts/bench.sh           full: N=10 and 50, runc_info over 200 containers
#   scripts/bench.sh --quick   a few minutes: N=10, runc_info over 50 containers
#   scripts/bench.sh --fleet-only   runc_containers no-op over 1, 3 and 6 test hosts
# Both also time runc_bundle on a 3-layer image against skopeo copy + umoci unpack
# (7 fresh bundles a way, 3 in quick mode) and its no-op against runc_container's.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

"$TOP/scripts/setup.sh"

if ! command -v podman >/dev/null; then
  say "apt: installing podman (the peer of the comparison)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q podman
fi
for tool in umoci skopeo; do
  if ! command -v "$tool" >/dev/null; then
    say "apt: installing $tool (runc_bundle's rows)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$tool"
  fi
done

BENCH_VENV="$BUILD/bench-venv"
stamp="$BENCH_VENV/.requirements.sha256"
wanted=$(cat "$TOP/requirements/bench.txt" <(/usr/bin/python3 -V) | sha256sum | cut -d' ' -f1)
if [[ ! -x $BENCH_VENV/bin/python || $(cat "$stamp" 2>/dev/null) != "$wanted" ]]; then
  say "bench venv: $BENCH_VENV"
  rm -rf "$BENCH_VENV"
  /usr/bin/python3 -m venv "$BENCH_VENV"
  "$BENCH_VENV/bin/pip" install -q --disable-pip-version-check -r "$TOP/requirements/bench.txt"
  echo "$wanted" > "$stamp"
fi

export PATH="$BENCH_VENV/bin:$PATH"
export ANSIBLE_PYTHON_INTERPRETER="$BENCH_VENV/bin/python"
say "benchmark"
exec "$BENCH_VENV/bin/python" "$TOP/bench/run.py" "$@"
