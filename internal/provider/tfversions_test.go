package provider

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/hashicorp/go-version"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"
)

// The acceptance suite runs on Terraform and on OpenTofu. Features newer
// than Terraform 1.11 are gated by Terraform's version; OpenTofu numbers its
// releases on its own, so what it lacks is named here with the evidence
// rather than inferred from its version number. Resource identity is not
// among them: tofu 1.12.6 imports by identity and keeps the identity in
// state, and the identity tests pass on it.

// feature is a Terraform feature newer than the oldest version tested.
type feature struct {
	name  string
	since *version.Version // the Terraform version that brought it
	// openTofu is what shows that OpenTofu 1.12 lacks it (tofu 1.12.6,
	// tried); empty when OpenTofu has it.
	openTofu string
}

var (
	featureIdentity = feature{
		name:  "resource identity (import by identity)",
		since: tfversion.Version1_12_0,
	}
	featureQuery = feature{
		name:     "list resources (terraform query)",
		since:    tfversion.Version1_14_0,
		openTofu: `tofu 1.12.6 has no "query" command ("OpenTofu has no command named \"query\"")`,
	}
	featureActions = feature{
		name:     "actions",
		since:    tfversion.Version1_14_0,
		openTofu: `tofu 1.12.6 rejects "action" blocks and "lifecycle { action_trigger }" ("Unsupported block type")`,
	}
)

// versionChecks are the TerraformVersionChecks of a test case that needs
// the feature: OpenTofu's first, as its version number says nothing about
// Terraform's features.
func (f feature) versionChecks() []tfversion.TerraformVersionCheck {
	return []tfversion.TerraformVersionCheck{openTofuCheck(f), tfversion.SkipBelow(f.since)}
}

type openTofuCheck feature

func (c openTofuCheck) CheckTerraformVersion(_ context.Context, _ tfversion.CheckTerraformVersionRequest, resp *tfversion.CheckTerraformVersionResponse) {
	if isOpenTofu() && c.openTofu != "" {
		resp.Skip = "OpenTofu lacks " + c.name + ": " + c.openTofu
	}
}

// require skips a test that drives the CLI itself, outside
// terraform-plugin-testing's checks, where the binary lacks the feature.
func (f feature) require(t *testing.T) {
	t.Helper()
	if isOpenTofu() {
		if f.openTofu != "" {
			t.Skip("OpenTofu lacks " + f.name + ": " + f.openTofu)
		}
		return
	}
	if v := cliVersion(t); v.Core().LessThan(f.since) {
		t.Skipf("Terraform %s lacks %s, which came in Terraform %s", v, f.name, f.since)
	}
}

var (
	cliOnce     sync.Once
	cliOpenTofu bool
	cliVer      *version.Version
	cliErr      error
)

// inspectCLI asks TF_ACC_TERRAFORM_PATH what it is, once.
func inspectCLI() {
	cliOnce.Do(func() {
		bin := os.Getenv("TF_ACC_TERRAFORM_PATH")
		out, err := exec.Command(bin, "version").Output()
		if err != nil {
			cliErr = err
			return
		}
		// Warnings about the CLI configuration may come first.
		cliOpenTofu = strings.Contains(string(out), "\nOpenTofu v") || strings.HasPrefix(string(out), "OpenTofu v")
		if out, err = exec.Command(bin, "version", "-json").Output(); err != nil {
			cliErr = err
			return
		}
		var v struct {
			Version string `json:"terraform_version"`
		}
		if cliErr = json.Unmarshal(out, &v); cliErr == nil {
			cliVer, cliErr = version.NewVersion(v.Version)
		}
	})
}

// isOpenTofu reports whether TF_ACC_TERRAFORM_PATH is OpenTofu.
func isOpenTofu() bool {
	inspectCLI()
	return cliOpenTofu
}

// cliVersion is the version TF_ACC_TERRAFORM_PATH reports.
func cliVersion(t *testing.T) *version.Version {
	t.Helper()
	inspectCLI()
	if cliErr != nil {
		t.Fatalf("asking %s for its version: %v", os.Getenv("TF_ACC_TERRAFORM_PATH"), cliErr)
	}
	return cliVer
}
