#!/usr/bin/env bash
# The README's "Quick start", word for word: its shell blocks are copied out
# of README.md and run in order, in one shell, from the root of this clone,
# with HOME set to a temporary directory (so ~/vpsorg-quickstart is
# temporary) and "yes" on standard input for Terraform's prompts. Between the
# first block and the next, `terraform plan -detailed-exitcode` checks that
# the apply left nothing to change. It fails when the README's steps stop
# working, when the first block takes more than five commands, or when port
# 8080 (where the quick start starts the emulator) is already taken.
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/vpsorg-quickstart.XXXXXX")"

fail() { echo "quickstart: $*" >&2; exit 1; }
step() { printf '\n==> %s\n' "$*"; }
port_taken() { (exec 3<>/dev/tcp/127.0.0.1/8080) 2>/dev/null; }

cleanup() {
  status=$?
  rm -rf "$work"
  [[ $status -eq 0 ]] || echo "quickstart: FAILED (exit $status)" >&2
  exit $status
}
trap cleanup EXIT INT TERM

command -v terraform >/dev/null || fail "terraform is not installed"
port_taken && fail "port 127.0.0.1:8080 is taken: the quick start starts the emulator there; stop what listens on it and run again"

# The shell blocks of the section "## Quick start", in order, one file each.
awk -v dir="$work" '
  /^## Quick start/ {in_section=1; next}
  in_section && /^## / {exit}
  in_section && /^```shell$/ {n++; file=sprintf("%s/block%d.sh", dir, n); in_block=1; next}
  in_block && /^```$/ {in_block=0; close(file); next}
  in_block {print > file}' "$root/README.md"
blocks=("$work"/block*.sh)
[[ ${#blocks[@]} -ge 3 ]] || fail "README.md's Quick start should have the install-and-apply, plan and destroy blocks; found ${#blocks[@]}"
commands="$(grep -cvE '^[[:space:]]*(#|$)' "$work/block1.sh")"
[[ $commands -le 5 ]] || fail "the quick start's first block has $commands commands, more than the five it promises"
# The last block is the real API's: it needs a token of one's own.
grep -q 'unset VPSORG_ENDPOINT' "${blocks[-1]}" || fail "the Quick start's last block should be the real API's"
unset 'blocks[-1]'

# What runs: the blocks verbatim, with the check after the apply. The trap
# stops the emulator if a step fails before the README's `kill %1`.
{
  echo 'set -e'
  echo 'trap '\''kill $(jobs -p) 2>/dev/null || true'\'' EXIT'
  for i in "${!blocks[@]}"; do
    echo "echo '==> quick start, block $((i + 1)):'; cat '${blocks[$i]}'"
    cat "${blocks[$i]}"
    if [[ $i -eq 0 ]]; then
      echo "echo '==> check: terraform plan -detailed-exitcode'"
      echo 'terraform plan -detailed-exitcode -input=false -no-color >/dev/null || { echo "the plan after apply is not empty (exit $?)"; exit 1; }'
    fi
  done
} >"$work/quickstart.sh"

# A user's Go caches stay where they are, or the build starts from nothing;
# everything else a user's environment could lend the steps is removed.
export GOCACHE="$(go env GOCACHE)" GOMODCACHE="$(go env GOMODCACHE)" GOPATH="$(go env GOPATH)"
unset VPSORG_ENDPOINT VPSORG_API_TOKEN VPSORG_CA_FILE TF_CLI_CONFIG_FILE TF_PLUGIN_CACHE_DIR TF_DATA_DIR TF_CLI_ARGS \
  TF_CLI_ARGS_apply TF_CLI_ARGS_destroy TF_INPUT
mkdir "$work/home"
export CHECKPOINT_DISABLE=1

step "Running README.md's Quick start from $root, with HOME=$work/home"
(cd "$root" && HOME="$work/home" bash "$work/quickstart.sh" < <(yes yes)) 2>&1 | tee "$work/run.out" ||
  fail "a step of the quick start failed (output above)"

version="$(sed -n 's/^## \([0-9][0-9.]*\) .*/\1/p' "$root/CHANGELOG.md" | head -n 1)"
grep -q "Installed vpsorg/vpsorg v$version" "$work/run.out" || fail "terraform init did not install vpsorg/vpsorg $version from the mirror"
grep -q 'Apply complete! Resources: 1 added' "$work/run.out" || fail "the apply did not create the server"
grep -q 'No changes\.' "$work/run.out" || fail "the README's terraform plan did not say No changes."
grep -q 'Destroy complete! Resources: 1 destroyed' "$work/run.out" || fail "the destroy did not delete the server"
for _ in $(seq 1 50); do port_taken || break; sleep 0.1; done
port_taken && fail "the emulator still listens on 8080 after the README's kill %1"
echo "quickstart: OK"
