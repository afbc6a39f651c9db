#!/usr/bin/env bash
# Run the quality gates on the collection copy made by setup.sh, and print a
# summary naming each gate, its result and its test counts.
#
#   scripts/test.sh            every gate
#   scripts/test.sh units ...  the named gates only
#
# Gates: sanity units integration molecule lint build docs. Every gate runs
# even after another failed; the exit status is non-zero if any failed.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

all_gates=(sanity units integration molecule lint build docs)
gates=("$@")
((${#gates[@]})) || gates=("${all_gates[@]}")

LOGS="${OCI_RUNC_COLLECTIONS:-$BUILD}/logs"
mkdir -p "$LOGS"
sync_collection
cd "$COLLECTION" || exit 1

gate_sanity() {
  ansible-test sanity --venv --python "$PYTHON_VERSION" --color no
}
count_sanity() {
  local ran failed
  ran=$(grep -c '^Running sanity test' "$1")
  failed=$(sed -n 's/^FATAL: The \([0-9]*\) sanity test(s) listed below.*/\1/p' "$1")
  echo "$((ran - ${failed:-0})) of $ran sanity tests passed"
}

gate_units() {
  ansible-test units --local --python "$PYTHON_VERSION" --color no
}
count_units() {
  grep -E '^=+ .*(passed|failed|error).* in ' "$1" | tail -n 1 | tr -d '='
}

# OCI_RUNC_TARGETS (space separated) limits the gate to those targets.
gate_integration() {
  # shellcheck disable=SC2086
  ansible-test integration --local --python "$PYTHON_VERSION" --color no ${OCI_RUNC_TARGETS:-}
}
count_integration() {
  local targets pytest_summary tasks
  targets=$(grep -c '^Running .* integration test \(role\|script\)' "$1")
  pytest_summary=$(grep -E '^=+ .*(passed|failed).* in ' "$1" | tr -d '=' \
    | awk '{for (i = 1; i < NF; i++) if ($(i+1) ~ /^(passed|failed)/) n[$(i+1)] += $i}
           END {printf "%d pytest passed, %d failed", n["passed"] + n["passed,"], n["failed"] + n["failed,"]}')
  tasks=$(awk '/^testhost +: ok=/ {split($3, kv, "="); n += kv[2]} END {print n + 0}' "$1")
  echo "$targets targets; $pytest_summary; $tasks playbook tasks ok"
}

# Each scenario with an ephemeral folder of its own; molecule destroys what
# it created after a failure too.
MOLECULE_SCENARIOS=(default fleet migrate)
gate_molecule() {
  local scenario failed=0
  for scenario in "${MOLECULE_SCENARIOS[@]}"; do
    MOLECULE_EPHEMERAL_DIRECTORY="$BUILD/molecule/$scenario" molecule test --scenario-name "$scenario" \
      || failed=1
  done
  return $failed
}
count_molecule() {
  local passed
  passed=$(grep -cE '^[a-z]+ +: actions=[0-9]+ +successful=[0-9]+ .* failed=0$' "$1")
  echo "$passed of ${#MOLECULE_SCENARIOS[@]} scenarios passed ($(grep -E '^[a-z]+ +: actions=' "$1" \
    | awk '{print $1}' | paste -sd ' ' -))"
}

gate_lint() {
  ansible-lint
}
count_lint() {
  grep -E '^(Passed|Failed):' "$1" | tail -n 1
}

# Build the artifact users install, install it offline into an empty path,
# and prove the installed copy works: its docs load and its playbook parses.
gate_build() {
  local dist="$BUILD/dist" installed="$BUILD/installed"
  rm -rf "$dist" "$installed"
  ansible-galaxy collection build --output-path "$dist" . \
    && ANSIBLE_COLLECTIONS_PATH="$installed" ansible-galaxy collection install --offline \
      -p "$installed" "$dist"/oci_runtime-runc-*.tar.gz \
    && ANSIBLE_COLLECTIONS_PATH="$installed" ansible-galaxy collection list oci_runtime.runc \
    && ANSIBLE_COLLECTIONS_PATH="$installed" ansible-playbook --syntax-check oci_runtime.runc.demo \
    && ANSIBLE_COLLECTIONS_PATH="$installed" ansible-playbook --syntax-check oci_runtime.runc.runtime
}
count_build() {
  grep -E '^(Created collection|oci_runtime.runc )' "$1" | sed 's/ for oci_runtime.runc at .*//' | tr -s ' ' \
    | paste -sd ';' -
}

# Every plugin and role must render with ansible-doc.
gate_docs() {
  local name role failed=0
  for name in $(ansible-doc -t module -l oci_runtime.runc 2>/dev/null | awk '{print $1}'); do
    echo "ansible-doc -t module $name"
    ansible-doc -t module "$name" >/dev/null || failed=1
  done
  for role in roles/*/; do
    name=$(basename "$role")
    echo "ansible-doc -t role oci_runtime.runc.$name"
    ansible-doc -t role "oci_runtime.runc.$name" >/dev/null || failed=1
  done
  return $failed
}

run_gate() {
  case $1 in
    sanity) gate_sanity ;;
    units) gate_units ;;
    integration) gate_integration ;;
    molecule) gate_molecule ;;
    lint) gate_lint ;;
    build) gate_build ;;
    docs) gate_docs ;;
  esac
}

count_gate() {
  case $1 in
    sanity) count_sanity "$2" ;;
    units) count_units "$2" ;;
    integration) count_integration "$2" ;;
    molecule) count_molecule "$2" ;;
    lint) count_lint "$2" ;;
    build) count_build "$2" ;;
    docs) count_docs "$2" ;;
  esac
}
count_docs() {
  echo "$(grep -c '^ansible-doc ' "$1") plugins and roles documented"
}

summary=()
status=0
for gate in "${gates[@]}"; do
  if [[ " ${all_gates[*]} " != *" $gate "* ]]; then
    echo "test.sh: unknown gate '$gate' (known: ${all_gates[*]})" >&2
    exit 2
  fi
  log="$LOGS/$gate.log"
  say "gate: $gate (log: $log)"
  started=$SECONDS
  if run_gate "$gate" 2>&1 | tee "$log"; then
    result=PASS
  else
    result=FAIL
    status=1
  fi
  summary+=("$(printf '%-12s %-5s %5ss  %s' "$gate" "$result" "$((SECONDS - started))" "$(count_gate "$gate" "$log")")")
done

say "summary"
printf '%s\n' "${summary[@]}"
exit $status
