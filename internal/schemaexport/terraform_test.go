package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/vpsorg/terraform-provider-vpsorg/internal/provider"
)

// The export is what `terraform providers schema -json` prints for every
// kind of schema the machine's terraform reports (Terraform 1.11 reports
// no identities, list resources or actions; docs/ generated from the
// export matching what Terraform 1.15 gave covers those). The provider is
// built and served to terraform through dev_overrides, as a user would.
func TestExport_matchesTerraformProvidersSchema(t *testing.T) {
	tf := os.Getenv("TF_ACC_TERRAFORM_PATH")
	if tf == "" {
		var err error
		if tf, err = exec.LookPath("terraform"); err != nil {
			t.Skip("no terraform on PATH and TF_ACC_TERRAFORM_PATH unset: nothing to compare with")
		}
	}
	dir := t.TempDir()
	build := exec.Command("go", "build", "-o", filepath.Join(dir, "bin", "terraform-provider-vpsorg"), "../..")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the provider: %v\n%s", err, out)
	}
	cliConfig := filepath.Join(dir, "cli.tfrc")
	writeFile(t, cliConfig, `provider_installation {
  dev_overrides {
    "vpsorg/vpsorg" = "`+filepath.Join(dir, "bin")+`"
  }
  direct {}
}
`)
	writeFile(t, filepath.Join(dir, "main.tf"), `terraform {
  required_providers {
    vpsorg = { source = "vpsorg/vpsorg" }
  }
}
`)
	cmd := exec.Command(tf, "providers", "schema", "-json")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "TF_CLI_CONFIG_FILE="+cliConfig, "CHECKPOINT_DISABLE=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	tfOut, err := cmd.Output()
	if err != nil {
		t.Fatalf("terraform providers schema -json: %v\n%s", err, stderr.String())
	}

	ours, err := json.Marshal(exportProvider(t))
	if err != nil {
		t.Fatal(err)
	}

	var theirs, mine struct {
		FormatVersion string                                `json:"format_version"`
		Schemas       map[string]map[string]json.RawMessage `json:"provider_schemas"`
	}
	mustUnmarshal(t, tfOut, &theirs)
	mustUnmarshal(t, ours, &mine)
	if theirs.FormatVersion != mine.FormatVersion {
		t.Errorf("format_version: terraform %q, export %q", theirs.FormatVersion, mine.FormatVersion)
	}
	tfProvider, ok := theirs.Schemas[provider.Address]
	if !ok {
		t.Fatalf("terraform printed no schema for %s: %s", provider.Address, tfOut)
	}
	for kind, want := range tfProvider {
		got, ok := mine.Schemas[provider.Address][kind]
		if !ok {
			t.Errorf("%s: terraform prints it, the export does not", kind)
			continue
		}
		if !sameJSON(t, got, want) {
			t.Errorf("%s differs.\nterraform: %s\nexport:    %s", kind, want, got)
		}
	}
	t.Logf("compared with terraform: %v", sortedKeys(tfProvider))
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func mustUnmarshal(t *testing.T, raw []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("%v in %s", err, raw)
	}
}

// sameJSON compares two JSON documents for equal content, whatever their
// key order and spacing.
func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	mustUnmarshal(t, a, &x)
	mustUnmarshal(t, b, &y)
	xn, _ := json.Marshal(x)
	yn, _ := json.Marshal(y)
	return bytes.Equal(xn, yn)
}
