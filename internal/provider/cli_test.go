package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Some behaviour can only be seen from the outside: a terraform process that
// is interrupted, logs at TRACE, or holds for_each instances (which
// terraform-plugin-testing cannot represent). These tests build the provider
// binary and drive the terraform CLI themselves, through dev_overrides in a
// CLI configuration of their own.

var (
	buildOnce   sync.Once
	providerBin string // directory holding terraform-provider-vpsorg
	buildErr    error
)

// builtProvider builds the provider binary once per test run.
func builtProvider(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		// Shared by every test of the run, so not a t.TempDir; TestMain removes it.
		dir, err := os.MkdirTemp("", "vpsorg-provider-bin-") //nolint:usetesting // see above
		if err != nil {
			buildErr = err
			return
		}
		cmd := exec.Command("go", "build", "-o", filepath.Join(dir, "terraform-provider-vpsorg"), "github.com/vpsorg/terraform-provider-vpsorg")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %w\n%s", err, out)
			return
		}
		providerBin = dir
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return providerBin
}

// cli is a terraform working directory wired to the built provider.
type cli struct {
	t   *testing.T
	dir string
	env []string
}

// newCLI needs TF_ACC: it runs the real terraform, like acceptance tests do.
func newCLI(t *testing.T, endpoint, token string) *cli {
	t.Helper()
	if os.Getenv("TF_ACC") == "" {
		t.Skip("drives the terraform CLI; set TF_ACC=1")
	}
	bin := builtProvider(t)
	home := t.TempDir()
	rc := filepath.Join(home, "terraformrc")
	config := fmt.Sprintf("provider_installation {\n  dev_overrides {\n    %q = %q\n  }\n  direct {}\n}\n", "vpsorg/vpsorg", bin)
	if err := os.WriteFile(rc, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(),
		"TF_CLI_CONFIG_FILE="+rc,
		"TF_IN_AUTOMATION=1",
		"CHECKPOINT_DISABLE=1",
		"TF_LOG=", "TF_LOG_PATH=",
		envEndpoint+"="+endpoint,
		envToken+"="+token,
	)
	return &cli{t: t, dir: t.TempDir(), env: env}
}

// write puts a file into the working directory.
func (c *cli) write(name, content string) {
	c.t.Helper()
	if err := os.WriteFile(filepath.Join(c.dir, name), []byte(content), 0o600); err != nil {
		c.t.Fatal(err)
	}
}

func (c *cli) command(ctx context.Context, extraEnv []string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, os.Getenv("TF_ACC_TERRAFORM_PATH"), append([]string{"-chdir=" + c.dir}, args...)...)
	cmd.Env = append(append([]string{}, c.env...), extraEnv...)
	return cmd
}

// cliTimeout bounds one terraform command: against a live API an apply
// waits for provisioning, which takes minutes.
func cliTimeout() time.Duration {
	return max(5*time.Minute, 2*accTimeout())
}

// run runs terraform to the end and returns its combined output.
func (c *cli) run(extraEnv []string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), cliTimeout())
	defer cancel()
	var out bytes.Buffer
	cmd := c.command(ctx, extraEnv, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// must runs terraform and fails the test if it fails.
func (c *cli) must(args ...string) string {
	c.t.Helper()
	out, err := c.run(nil, args...)
	if err != nil {
		c.t.Fatalf("terraform %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// stdout runs terraform and returns its standard output alone.
func (c *cli) stdout(args ...string) string {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cliTimeout())
	defer cancel()
	var out, errOut bytes.Buffer
	cmd := c.command(ctx, nil, args...)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		c.t.Fatalf("terraform %s: %v\n%s%s", strings.Join(args, " "), err, out.String(), errOut.String())
	}
	return out.String()
}

// stateResource is one resource instance of `terraform show -json`.
type stateResource struct {
	Address string         `json:"address"`
	Tainted bool           `json:"tainted"`
	Values  map[string]any `json:"values"`
}

// state reads the managed and data resources in state.
func (c *cli) state() []stateResource {
	c.t.Helper()
	var show struct {
		Values struct {
			RootModule struct {
				Resources []stateResource `json:"resources"`
			} `json:"root_module"`
		} `json:"values"`
	}
	if err := json.Unmarshal([]byte(c.stdout("show", "-json")), &show); err != nil {
		c.t.Fatal(err)
	}
	return show.Values.RootModule.Resources
}
