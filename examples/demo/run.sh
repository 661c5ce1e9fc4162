#!/usr/bin/env bash
# The provider's main job, end to end, on this machine alone: build the
# provider and the emulator, start the emulator on a loopback port, apply
# examples/demo with a temporary CLI configuration (dev_overrides; nothing is
# written to your home directory), show the result, destroy, and clean up.
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/vpsorg-demo.XXXXXX")"
script=demo
# shellcheck source=../emulator.sh
source "$root/examples/emulator.sh"

step() { printf '\n==> %s\n' "$*"; }

command -v go >/dev/null || { echo "demo: go is not installed" >&2; exit 1; }
command -v terraform >/dev/null || { echo "demo: terraform is not installed" >&2; exit 1; }

step "Building the provider and the emulator"
(cd "$root" && go build -o "$work/bin/terraform-provider-vpsorg" . && go build -o "$work/bin/vpsorg-emulator" ./cmd/vpsorg-emulator)

step "Starting the emulator on a loopback port (servers provision in ${DEMO_PROVISIONING_TIME:=5s})"
token="demo-token-$RANDOM$RANDOM"
start_emulator "$work/bin/vpsorg-emulator" -token "$token" \
  -provisioning-time "$DEMO_PROVISIONING_TIME" -transition-time 2s
echo "emulator at $endpoint"
echo "live view (open it in a browser to watch the servers change): ${endpoint%api/v1/}_emulator/ui/"

cat >"$work/terraformrc" <<RC
provider_installation {
  dev_overrides {
    "vpsorg/vpsorg" = "$work/bin"
  }
  direct {}
}
RC
export TF_CLI_CONFIG_FILE="$work/terraformrc"
export TF_IN_AUTOMATION=1 CHECKPOINT_DISABLE=1
export VPSORG_ENDPOINT="$endpoint" VPSORG_API_TOKEN="$token"
mkdir "$work/tf"
cp "$root/examples/demo/main.tf" "$work/tf/"
tf() { terraform -chdir="$work/tf" "$@"; }

step "terraform apply: two servers, one kept stopped (waits for provisioning)"
tf apply -auto-approve -input=false -no-color 2>&1 | grep -v -e 'Provider development overrides' -e '^ - vpsorg/vpsorg in' -e 'The behavior may therefore' -e 'versions and checksums' -e 'The latest versions' -e '^│ *$' -e '^╷$' -e '^╵$' -e 'Warning: Provider development'

step "The servers, as data.vpsorg_servers reads them"
tf output -no-color servers 2>/dev/null

step "terraform plan: nothing left to change"
tf plan -detailed-exitcode -input=false -no-color >"$work/plan.out" 2>&1 || {
  cat "$work/plan.out" >&2; echo "demo: the plan after apply is not empty" >&2; exit 1; }
grep -o 'No changes\..*' "$work/plan.out"

step "terraform destroy"
tf destroy -auto-approve -input=false -no-color 2>&1 | grep -e 'Destroy' -e 'destroyed' -e 'Destroying'

step "Stopping the emulator and removing $work"
echo "demo: OK"
