package provider

import (
	"os"
	"path/filepath"
)

// paceFileName is the file, in Terraform's data directory, where the client
// keeps the pace it learned from the API's 429s for the next provider
// process of the same working directory (vpsorg.Config.PaceFile).
const paceFileName = "vpsorg-pace.json"

// paceFile is where this provider process keeps its pace: in Terraform's
// data directory (TF_DATA_DIR, else .terraform of the working directory,
// which is the provider's own when Terraform starts it), and only when
// Terraform started it: a provider served in-process by a test, or under a
// debugger, has another working directory and writes nothing.
func paceFile() string {
	// go-plugin gives every plugin process Terraform starts this variable;
	// terraform-plugin-go refuses to serve without it.
	if os.Getenv("TF_PLUGIN_MAGIC_COOKIE") == "" {
		return ""
	}
	dir := os.Getenv("TF_DATA_DIR")
	if dir == "" {
		dir = ".terraform"
	}
	path, err := filepath.Abs(filepath.Join(dir, paceFileName))
	if err != nil {
		return ""
	}
	return path
}
