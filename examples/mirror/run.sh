#!/usr/bin/env bash
# The README's "Using the provider", followed as a user would in a fresh
# directory: make install-mirror, the CLI configuration it writes, the
# README's configuration (with its version constraint), terraform init from
# the mirror, apply against the emulator, an empty plan, destroy. It fails
# when the README's steps stop working. Nothing is written outside a
# temporary directory. TERRAFORM picks the binary (default: terraform).
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/vpsorg-mirror.XXXXXX")"
terraform="${TERRAFORM:-terraform}"
script=mirror
# shellcheck source=../emulator.sh
source "$root/examples/emulator.sh"

fail() { echo "mirror: $*" >&2; exit 1; }
step() { printf '\n==> %s\n' "$*"; }

step "make install-mirror, as the README says, into $work/mirror"
make --no-print-directory -C "$root" install-mirror MIRROR="$work/mirror" >"$work/install.out"
grep -q "export TF_CLI_CONFIG_FILE=$work/mirror.tfrc" "$work/install.out" ||
  { cat "$work/install.out" >&2; fail "install-mirror did not print the CLI configuration to use"; }
version="$(sed -n 's/^## \([0-9][0-9.]*\) .*/\1/p' "$root/CHANGELOG.md" | head -n 1)"

step "The README's configuration, in a fresh directory"
mkdir "$work/tf"
# The first terraform block of the section "Using the provider", verbatim.
awk '/^## Using the provider/ {in_section=1; next}
     in_section && /^## / {exit}
     in_section && /^```terraform$/ {in_block=1; next}
     in_block && /^```$/ {exit}
     in_block {print}' "$root/README.md" >"$work/tf/main.tf"
grep -q 'version *= *"' "$work/tf/main.tf" || fail "the README's configuration has no version constraint"
cat "$work/tf/main.tf"

step "Starting the emulator on a loopback port"
(cd "$root" && go build -o "$work/vpsorg-emulator" ./cmd/vpsorg-emulator)
token="mirror-token-$RANDOM$RANDOM"
start_emulator "$work/vpsorg-emulator" -token "$token" -provisioning-time 1s -transition-time 1s -quiet

export TF_CLI_CONFIG_FILE="$work/mirror.tfrc" TF_IN_AUTOMATION=1 CHECKPOINT_DISABLE=1
unset TF_PLUGIN_CACHE_DIR TF_DATA_DIR  # a user's cache must not stand in for the mirror
export VPSORG_ENDPOINT="$endpoint" VPSORG_API_TOKEN="$token"
tf() { "$terraform" -chdir="$work/tf" "$@"; }

step "$terraform init: the provider comes from the mirror, version $version"
tf init -input=false -no-color >"$work/init.out" 2>&1 || { cat "$work/init.out" >&2; fail "init failed"; }
grep -E "Installed vpsorg/vpsorg v$version" "$work/init.out" || { cat "$work/init.out" >&2; fail "init did not install $version"; }
grep -q "\"$version\"" "$work/tf/.terraform.lock.hcl" || fail "the lock file does not record $version"

step "$terraform apply against the emulator"
tf apply -auto-approve -input=false -no-color >"$work/apply.out" 2>&1 || { cat "$work/apply.out" >&2; fail "apply failed"; }
grep -o 'Apply complete!.*' "$work/apply.out"

step "$terraform plan: nothing left to change"
tf plan -detailed-exitcode -input=false -no-color >"$work/plan.out" 2>&1 ||
  { cat "$work/plan.out" >&2; fail "the plan after apply is not empty"; }
grep -o 'No changes\..*' "$work/plan.out"

step "$terraform destroy"
tf destroy -auto-approve -input=false -no-color >"$work/destroy.out" 2>&1 || { cat "$work/destroy.out" >&2; fail "destroy failed"; }
grep -o 'Destroy complete!.*' "$work/destroy.out"
echo "mirror: OK"
