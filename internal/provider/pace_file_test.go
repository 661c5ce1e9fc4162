package provider

import (
	"os"
	"path/filepath"
	"testing"
)

func TestPaceFile_OnlyInTerraformsDataDirectoryAndOnlyWhenTerraformStartedTheProvider(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("TF_PLUGIN_MAGIC_COOKIE", "")
	os.Unsetenv("TF_PLUGIN_MAGIC_COOKIE")
	if got := paceFile(); got != "" {
		t.Errorf("served in-process (no plugin handshake): pace file %q, want none", got)
	}
	t.Setenv("TF_PLUGIN_MAGIC_COOKIE", "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2")
	t.Setenv("TF_DATA_DIR", "")
	if got, want := paceFile(), filepath.Join(wd, ".terraform", "vpsorg-pace.json"); got != want {
		t.Errorf("started by Terraform: pace file %q, want %q", got, want)
	}
	t.Setenv("TF_DATA_DIR", "/var/tf/ws1")
	if got, want := paceFile(), "/var/tf/ws1/vpsorg-pace.json"; got != want {
		t.Errorf("with TF_DATA_DIR: pace file %q, want %q", got, want)
	}
}
