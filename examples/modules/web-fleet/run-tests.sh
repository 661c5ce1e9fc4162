#!/usr/bin/env bash
# Runs the module's `terraform test` against the emulator with the provider
# built from this repository, the way a module author's CI would run it with
# a released provider:
#
#   vpsorg-emulator run -- terraform test
#
# The CLI configuration is temporary (dev_overrides; nothing is written to
# your home directory). `make check` runs this.
set -euo pipefail

module="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$module/../../.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/vpsorg-module-test.XXXXXX")"
trap 'rm -rf "$work"' EXIT

(cd "$root" && go build -o "$work/bin/terraform-provider-vpsorg" . && go build -o "$work/bin/vpsorg-emulator" ./cmd/vpsorg-emulator)
cat >"$work/terraformrc" <<RC
provider_installation {
  dev_overrides {
    "vpsorg/vpsorg" = "$work/bin"
  }
  direct {}
}
RC
export TF_CLI_CONFIG_FILE="$work/terraformrc" TF_IN_AUTOMATION=1 CHECKPOINT_DISABLE=1

cd "$module"
"$work/bin/vpsorg-emulator" run -provisioning-time 1s -transition-time 1s -journal "$work/journal.json" -- \
  terraform test -no-color
