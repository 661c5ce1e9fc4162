package provider

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The emulator guide's `vpsorg-emulator run` sample is the summary the
// command prints for the module of the "Testing modules" guide
// (examples/testing): the guide's command, run in a copy of that module
// with the built provider, prints it to stderr after terraform test. With
// servers ready at once (-provisioning-time 0s) the requests are the same
// on every run, so the sample can be compared whole.
func TestAccGuideSamples_emulatorRunSummary(t *testing.T) {
	t.Parallel()
	if isOpenTofu() {
		t.Skip("the guide's sample is what `terraform test` makes the emulator count; OpenTofu's may differ, and no OpenTofu here can show it")
	}
	c := newCLI(t, "http://127.0.0.1:1/api/v1/", "unused") // run sets the endpoint and token
	copyExample(t, c, "testing", "main.tf", "tests/emulator.tftest.hcl", "tests/mock.tftest.hcl")
	guide := guideTemplate(t, "emulator")

	command := strings.Fields(guideBlock(t, guide, "script", "run"))
	if len(command) < 4 || command[0] != "vpsorg-emulator" || command[1] != "run" || !strings.HasPrefix(strings.Join(command, " "), "vpsorg-emulator run -provisioning-time 0s ") {
		t.Fatalf("the guide runs %q; this test expects vpsorg-emulator run -provisioning-time 0s -- ...", command)
	}

	bin := t.TempDir()
	build := exec.CommandContext(t.Context(), "go", "build", "-o", filepath.Join(bin, "vpsorg-emulator"), "github.com/vpsorg/terraform-provider-vpsorg/cmd/vpsorg-emulator")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build vpsorg-emulator: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(t.Context(), cliTimeout())
	defer cancel()
	run := exec.CommandContext(ctx, filepath.Join(bin, command[0]), command[1:]...)
	run.Dir = c.dir
	// The guide's "terraform" is the Terraform the tests use, whatever its
	// file is called.
	if err := os.Symlink(os.Getenv("TF_ACC_TERRAFORM_PATH"), filepath.Join(bin, "terraform")); err != nil {
		t.Fatal(err)
	}
	path := bin + string(os.PathListSeparator) + os.Getenv("PATH")
	run.Env = append(append([]string{}, c.env...), "PATH="+path)
	var stdout, stderr bytes.Buffer
	run.Stdout, run.Stderr = &stdout, &stderr
	if err := run.Run(); err != nil {
		t.Fatalf("%s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(command, " "), err, stdout.String(), stderr.String())
	}
	_, summary, ok := strings.Cut(stderr.String(), "\nvpsorg-emulator run: ")
	if !ok {
		t.Fatalf("no summary on stderr:\n%s", stderr.String())
	}
	compareSample(t, guide, "run-summary", "vpsorg-emulator run: "+summary)
}

// copyExample copies files of examples/<module> into a CLI's working
// directory.
func copyExample(t *testing.T, c *cli, module string, names ...string) {
	t.Helper()
	for _, name := range names {
		b, err := os.ReadFile(filepath.Join("..", "..", "examples", module, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(c.dir, filepath.Dir(name)), 0o700); err != nil {
			t.Fatal(err)
		}
		c.write(name, string(b))
	}
}
