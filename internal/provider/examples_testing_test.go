package provider

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The module of the "Testing modules" guide (examples/testing) passes its
// own tests as the guide says: the emulator file against an emulator, the
// mock_provider file with no API at all; and the output the guide shows is
// what terraform test prints.
func TestAccExamples_testingModuleGuide(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t)
	env.requireEmulator("the example's servers are named web-1 and web-2, which the sweepers do not delete")
	copyModule := func(c *cli) {
		copyExample(t, c, "testing", "main.tf", "tests/emulator.tftest.hcl", "tests/mock.tftest.hcl")
	}

	// With no API: an endpoint where nothing listens.
	offline := newCLI(t, "http://127.0.0.1:1/api/v1/", "unused")
	copyModule(offline)
	if out := offline.must("test", "-no-color", "-filter=tests/mock.tftest.hcl"); !strings.Contains(out, "Success! 2 passed, 0 failed.") {
		t.Errorf("the mocked tests did not pass with no API:\n%s", out)
	}

	c := newCLI(t, env.endpoint, env.token)
	copyModule(c)
	out := c.must("test", "-no-color")
	guide, err := os.ReadFile(filepath.Join("..", "..", "templates", "guides", "testing-modules.md.tmpl"))
	if err != nil {
		t.Fatal(err)
	}
	sample := regexp.MustCompile("(?s)`terraform test` runs both files:\n\n```\n(.*?)```").FindSubmatch(guide)
	if sample == nil {
		t.Fatal("the guide has no sample output after \"`terraform test` runs both files:\"")
	}
	if got := strings.TrimSpace(testOutput(out)); got != strings.TrimSpace(string(sample[1])) {
		t.Errorf("the guide's sample output is stale.\nguide:\n%s\nterraform test printed:\n%s", sample[1], got)
	}
	if n := len(env.emulator.Servers("acc")); n != 0 {
		t.Errorf("terraform test left %d servers behind", n)
	}
}

// testOutput is terraform test's report without the warnings around it
// (dev_overrides).
func testOutput(out string) string {
	var keep []string
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "tests/") || strings.HasPrefix(line, "  run ") || strings.HasPrefix(line, "Success!") ||
			line == "" && len(keep) > 0 && strings.HasPrefix(keep[len(keep)-1], "tests/") {
			keep = append(keep, line)
		}
	}
	return strings.Join(keep, "\n")
}

// The resource page's example runs as a user copies it: the provider
// page's configuration and the resource example, alone in a directory of
// their own (no other file beside them), apply, plan nothing more and
// destroy.
func TestAccExamples_resourcePageExampleRunsAsCopied(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t)
	env.requireEmulator("the example's servers are named web-server-01 and builder-01, which the sweepers do not delete")
	c := newCLI(t, env.endpoint, env.token)
	copyExample(t, c, "provider", "provider.tf")
	copyExample(t, c, filepath.Join("resources", "vpsorg_server"), "resource.tf")

	c.must("apply", "-auto-approve", "-input=false", "-no-color")
	if out, err := c.run(nil, "plan", "-detailed-exitcode", "-input=false", "-no-color"); err != nil {
		t.Errorf("the plan after applying the example is not empty (%v):\n%s", err, out)
	}
	c.must("destroy", "-auto-approve", "-input=false", "-no-color")
	if n := len(env.emulator.Servers("acc")); n != 0 {
		t.Errorf("the destroy left %d servers behind", n)
	}
}
