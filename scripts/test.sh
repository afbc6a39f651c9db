#!/usr/bin/env bash
# Run the quality gates on the collection copy made by setup.sh, and print a
# summary naming each gate, its result and its test counts.
#
#   scripts/test.sh            every gate
#   scripts/test.sh units ...  the named gates only
#
# Gates: sanity units integration versions molecule lint build docs site. Every
# gate runs even after another failed; the exit status is non-zero if any
# failed.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

all_gates=(sanity units integration versions molecule lint build docs site)
gates=("$@")
((${#gates[@]})) || gates=("${all_gates[@]}")

# Logs beside the collection copy: a developer's own copy gets its own.
WORK="${OCI_RUNC_COLLECTIONS:-$BUILD}"
LOGS="$WORK/logs"
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

# ansible-test runs the target tests (module_utils) and the controller tests (connection,
# inventory) in separate pytest runs, and exits 0 when a run collected nothing because its
# workers crashed: each run must pass and none may crash or run no test.
gate_units() {
  local output status=0
  output=$(ansible-test units --local --python "$PYTHON_VERSION" --color no 2>&1) || status=$?
  printf '%s\n' "$output"
  if grep -qE 'crashed worker|no tests ran' <<<"$output"; then
    echo "GATE FAILED: units: a pytest run crashed or ran no test" >&2
    return 1
  fi
  return $status
}
count_units() {
  grep -E '^=+ .*(passed|failed|error|no tests ran).* in ' "$1" | tr -d '=' | sed 's/^ *//; s/ *$//' \
    | paste -sd ';' - | sed 's/;/; /g'
}

# OCI_RUNC_TARGETS (space separated) limits the gate to those targets.
# Every target removes the playground setup_runc_tests made (its cleanup.yml): one of this run
# left in /tmp fails the gate, as a target that forgot would otherwise fill a machine's /tmp unseen.
gate_integration() {
  local before left status=0
  before=$(playgrounds)
  # shellcheck disable=SC2086
  ansible-test integration --local --python "$PYTHON_VERSION" --color no ${OCI_RUNC_TARGETS:-} || status=$?
  left=$(comm -13 <(printf '%s\n' "$before") <(playgrounds) | paste -sd ' ' -)
  if [[ -n $left ]]; then
    echo "GATE FAILED: integration: playgrounds left behind: $left" >&2
    return 1
  fi
  return $status
}
# The playgrounds of this collection copy (setup_runc_tests writes the copy's path in each), not
# those of a run beside it; always in /tmp, where ansible-test's modules make them.
playgrounds() {
  grep -lF -- "$COLLECTION/" /tmp/oci-runc-it-*/owner 2>/dev/null | xargs -r -n1 dirname | sort || true
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

# The ansible-core versions meta/runtime.yml's requires_ansible claims, from
# its lower bound up to the main venv's: each other than the main one must
# have a requirements/ansible-core-X.Y.txt (see setup.sh --tests), whose venv
# runs the unit tests and the smoke_core integration target. One result line
# per run: "versions: ansible-core X.Y.Z STEP PASS|FAIL (COUNTS)".
gate_versions() {
  local lowest main minor requirements venv version failed=0
  lowest=$(sed -n 's/^requires_ansible: *"*>= *\([0-9]*\.[0-9]*\).*/\1/p' meta/runtime.yml)
  main=$(python -c 'from ansible.release import __version__; print(".".join(__version__.split(".")[:2]))')
  if [[ -z $lowest ]]; then
    echo "versions: no lower bound in meta/runtime.yml's requires_ansible" >&2
    return 1
  fi
  echo "versions: requires_ansible >=$lowest; the main venv has ansible-core $main"
  for ((minor = ${lowest#*.}; minor < ${main#*.}; minor++)); do
    if [[ ! -f $TOP/requirements/ansible-core-${lowest%%.*}.$minor.txt ]]; then
      echo "versions: ansible-core ${lowest%%.*}.$minor claimed but untested (no requirements/ansible-core-${lowest%%.*}.$minor.txt)" >&2
      failed=1
    fi
  done
  for requirements in "${CORE_REQUIREMENTS[@]}"; do
    venv=$(core_venv "$requirements")
    if [[ ! -x $venv/bin/ansible-test ]]; then
      echo "versions: $venv is missing: run scripts/setup.sh --tests" >&2
      failed=1
      continue
    fi
    version=$("$venv/bin/python" -c 'from ansible.release import __version__; print(__version__)')
    run_version_step "$venv" "$version" units ansible-test units --local --python "$PYTHON_VERSION" --color no \
      || failed=1
    run_version_step "$venv" "$version" smoke_core \
      ansible-test integration --local --python "$PYTHON_VERSION" --color no smoke_core || failed=1
  done
  return $failed
}
# ansible-test --local runs its tests with the Python it runs on: put the
# version's venv first on PATH, and let the managed host (this machine) use it too.
run_version_step() {
  local venv=$1 version=$2 step=$3 log="$LOGS/versions-$2-$3.log" result=PASS counts
  shift 3
  say "ansible-core $version: $step (log: $log)"
  PATH="$venv/bin:$PATH" ANSIBLE_PYTHON_INTERPRETER="$venv/bin/python" "$@" 2>&1 | tee "$log" || result=FAIL
  if [[ $step == units ]] && grep -qE 'crashed worker|no tests ran' "$log"; then
    result=FAIL   # ansible-test exits 0 when a pytest run collected nothing
  fi
  if [[ $step == units ]]; then
    counts=$(count_units "$log" | grep -oE '[0-9]+ (passed|failed|errors?)' | paste -sd ' ' -)
  else
    counts="$(awk '/^testhost +: ok=/ {split($3, kv, "="); n += kv[2]} END {print n + 0}' "$log") tasks ok"
  fi
  echo "versions: ansible-core $version $step $result (${counts:-nothing ran})"
  [[ $result == PASS ]]
}
count_versions() {
  local results
  results=$(grep -E '^versions: ansible-core [0-9.]+ [a-z_]+ (PASS|FAIL) ' "$1" || true)
  echo "$(grep -c ' PASS ' <<<"$results" || true) of $(grep -c . <<<"$results" || true) runs passed:" \
    "$(sed 's/^versions: ansible-core //; s/ \(PASS\|FAIL\) / /' <<<"$results" | paste -sd ',' - | sed 's/,/, /g')"
}

# Each scenario with an ephemeral folder of its own; molecule destroys what
# it created after a failure too. Run as docs/molecule.md tells users to:
# from the collection root, with Molecule's defaults, colour on as in a
# terminal, none of the ANSIBLE_* settings this script makes for the other
# gates but the collections path. The ephemeral folders are in /tmp, not
# beside the checkout: the scenarios keep their SSH connections' sockets in
# them, and a socket's path has at most 107 bytes, which a checkout a few
# folders deep would pass.
MOLECULE_SCENARIOS=(default fleet migrate instances supervised)
# They hold the test hosts' private key: removed on the way out, interrupted too
# (a subshell, so the trap is the gate's own).
gate_molecule() (
  local scenario ephemeral failed=0
  ephemeral=$(mktemp -d /tmp/oci-runc-molecule.XXXXXX) || exit 1
  trap 'rm -rf -- "$ephemeral"' EXIT
  echo "Molecule's ephemeral folders: $ephemeral/<scenario>"
  for scenario in "${MOLECULE_SCENARIOS[@]}"; do
    env -u ANSIBLE_NOCOLOR -u ANSIBLE_FORCE_COLOR -u ANSIBLE_PYTHON_INTERPRETER TERM=xterm \
      MOLECULE_EPHEMERAL_DIRECTORY="$ephemeral/$scenario" molecule test --scenario-name "$scenario" \
      || failed=1
  done
  exit $failed
)
# The log holds colour codes: strip them before reading the closing table.
count_molecule() {
  local table passed
  table=$(sed 's/\x1b\[[0-9;]*m//g' "$1" | grep -E '^[a-z]+ +: actions=' || true)
  passed=$(grep -cE '^[a-z]+ +: actions=[0-9]+ +successful=[0-9]+ .* failed=0 *$' <<<"$table" || true)
  echo "$passed of ${#MOLECULE_SCENARIOS[@]} scenarios passed ($(awk '{print $1}' <<<"$table" | paste -sd ' ' -))"
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
    && ANSIBLE_COLLECTIONS_PATH="$installed" ansible-playbook --syntax-check oci_runtime.runc.runtime \
    && check_execution_environment "$installed"
}

# What ansible-builder reads of the installed collection (meta/execution-environment.yml) names its
# Python and system requirements, and an execution environment with it makes a build context.
check_execution_environment() {
  local installed=$1/ansible_collections/oci_runtime/runc introspected context="$BUILD/ee-context"
  [[ -x $DOCS_VENV/bin/ansible-builder ]] || { echo "build: run scripts/setup.sh --docs first (ansible-builder)" >&2; return 1; }
  # ansible-builder falls back to requirements.txt and bindep.txt without the metadata file: check it.
  "$DOCS_VENV/bin/python" - "$installed" <<'PY' || return 1
import os, sys, yaml
root = sys.argv[1]
with open(os.path.join(root, 'meta', 'execution-environment.yml')) as stream:
    meta = yaml.safe_load(stream)
assert meta.get('version') == 1, 'meta/execution-environment.yml: version 1 expected'
for kind in ('python', 'system'):
    path = os.path.join(root, meta['dependencies'][kind])
    assert os.path.isfile(path), 'meta/execution-environment.yml: %s names %s, not in the collection' % (kind, path)
print('meta/execution-environment.yml: python %(python)s, system %(system)s' % meta['dependencies'])
PY
  introspected=$("$DOCS_VENV/bin/ansible-builder" introspect "$1") || return 1
  printf '%s\n' "$introspected"
  local wanted
  for wanted in "jsonschema" "runc \[" "skopeo \[" "umoci \[" "containernetworking-plugins \[" "criu \["; do
    grep -q "^- '$wanted.*# from collection oci_runtime.runc'" <<<"$introspected" \
      || { echo "ansible-builder introspect: no $wanted from oci_runtime.runc" >&2; return 1; }
  done
  # An execution environment that installs the built collection (the tarball goes into the context).
  local tarball
  tarball=$(ls "$BUILD"/dist/oci_runtime-runc-*.tar.gz) || return 1
  rm -rf "$context" "$BUILD/ee"
  mkdir -p "$BUILD/ee"
  local template
  for template in execution-environment.yml requirements.yml; do
    sed "s|@TARBALL@|$tarball|; s|@TARBALL_NAME@|$(basename "$tarball")|" "$TOP/tests/ee/$template" \
      > "$BUILD/ee/$template"
  done
  (cd "$BUILD/ee" && "$DOCS_VENV/bin/ansible-builder" create -f execution-environment.yml --context "$context") \
    && ls "$context"/_build/collections/oci_runtime-runc-*.tar.gz \
    && grep -q '^jsonschema' "$context/_build/requirements.txt" && grep -q '^runc ' "$context/_build/bindep.txt" \
    && echo "execution environment: build context in $context"
}

count_build() {
  grep -E '^(Created collection|oci_runtime.runc )' "$1" | sed 's/ for oci_runtime.runc at .*//' | tr -s ' ' \
    | paste -sd ';' -
}

# Every plugin and role must render with ansible-doc.
gate_docs() {
  local name role failed=0
  local plugin_type
  for plugin_type in module connection inventory; do
    for name in $(ansible-doc -t "$plugin_type" -l oci_runtime.runc 2>/dev/null | awk '{print $1}'); do
      echo "ansible-doc -t $plugin_type $name"
      ansible-doc -t "$plugin_type" "$name" >/dev/null || failed=1
    done
  done
  for role in roles/*/; do
    name=$(basename "$role")
    echo "ansible-doc -t role oci_runtime.runc.$name"
    ansible-doc -t role "oci_runtime.runc.$name" >/dev/null || failed=1
  done
  return $failed
}

# The documentation site: built with every warning an error (scripts/docs_site.sh), then opened in
# headless chromium, every page and internal link checked, screenshots kept. The checker must also
# fail on a fixture site with a broken link and a broken anchor, or its passing proves nothing.
gate_site() {
  local site="$WORK/docs-site" fixture
  [[ -x $DOCS_VENV/bin/python ]] || { echo "site: run scripts/setup.sh --docs first" >&2; return 1; }
  OCI_RUNC_DOCS_SITE="$site" "$TOP/scripts/docs_site.sh" || return 1
  "$DOCS_VENV/bin/python" "$TOP/tests/docs_site/check_site.py" "$site/html" --screenshots "$site/screenshots" \
    --screenshot index.html --screenshot collections/oci_runtime/runc/runc_container_module.html \
    --search restart_sec || return 1
  ls "$site/screenshots"
  if fixture=$("$DOCS_VENV/bin/python" "$TOP/tests/docs_site/check_site.py" "$TOP/tests/docs_site/broken_site"); then
    echo "check_site.py passed a site with broken links and console errors" >&2
    return 1
  fi
  printf '%s\n' "$fixture"
  local wanted
  for wanted in 'index.html: broken link to missing.html (no such page)' \
      'other.html: broken link to index.html#nowhere (no such anchor)' \
      'late.html: console error: .*no-such-script.js' 'late.html: console error: .*thrown 100 ms after the load'; do
    grep -q "^PROBLEM $wanted" <<<"$fixture" || { echo "check_site.py did not report: $wanted" >&2; return 1; }
  done
  echo "fixture: the broken link, the broken anchor and both console errors were reported"
}
count_site() {
  grep -E '^site: ' "$1" | head -n 1
}

run_gate() {
  case $1 in
    sanity) gate_sanity ;;
    units) gate_units ;;
    integration) gate_integration ;;
    versions) gate_versions ;;
    molecule) gate_molecule ;;
    lint) gate_lint ;;
    build) gate_build ;;
    docs) gate_docs ;;
    site) gate_site ;;
  esac
}

count_gate() {
  case $1 in
    sanity) count_sanity "$2" ;;
    units) count_units "$2" ;;
    integration) count_integration "$2" ;;
    versions) count_versions "$2" ;;
    molecule) count_molecule "$2" ;;
    lint) count_lint "$2" ;;
    build) count_build "$2" ;;
    docs) count_docs "$2" ;;
    site) count_site "$2" ;;
  esac
}
count_docs() {
  echo "$(grep -c '^ansible-doc ' "$1") plugins and roles documented"
}

summary=()
failed_gates=()
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
    failed_gates+=("$gate")
  fi
  summary+=("$(printf '%-12s %-5s %5ss  %s' "$gate" "$result" "$((SECONDS - started))" "$(count_gate "$gate" "$log")")")
done

say "summary"
printf '%s\n' "${summary[@]}"
# CI keeps the end of the output only: say there why each failed gate failed.
for gate in "${failed_gates[@]}"; do
  say "why $gate failed (log: $LOGS/$gate.log)"
  python3 "$TOP/scripts/why_failed.py" "$LOGS/$gate.log" || true
done
exit $status
