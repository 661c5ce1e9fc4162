package provider

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/vpsorg/terraform-provider-vpsorg/internal/emulator"
	"github.com/vpsorg/terraform-provider-vpsorg/internal/vpsorg"
)

// Sweepers delete what crashed or interrupted acceptance runs left on the
// endpoint in VPSORG_ENDPOINT: every server whose name begins with
// testNamePrefix, and nothing else.
//
//	go test ./internal/provider -v -sweep=all   (make sweep)
//
// The API has no regions, so any -sweep value sweeps the whole account.
// Do not sweep while an acceptance run is under way on the same account: its
// servers carry the prefix too.
func init() {
	resource.AddTestSweepers("vpsorg_server", &resource.Sweeper{
		Name: "vpsorg_server",
		F: func(string) error {
			if !endpointFromEnv() {
				return fmt.Errorf("sweepers work on the endpoint in %s with the token in %s; set both", envEndpoint, envToken)
			}
			client, err := vpsorg.New(vpsorg.Config{Endpoint: os.Getenv(envEndpoint), Token: os.Getenv(envToken)})
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
			defer cancel()
			deleted, err := sweepServers(ctx, client)
			for _, name := range deleted {
				log.Printf("[INFO] swept server %s", name)
			}
			return err
		},
	})
}

// sweepServers deletes every server whose name begins with testNamePrefix
// and returns what it deleted. One already gone is no error.
func sweepServers(ctx context.Context, c *vpsorg.Client) ([]string, error) {
	servers, err := c.ListServers(ctx, vpsorg.ListServersOptions{})
	if err != nil {
		return nil, err
	}
	var deleted []string
	var errs []error
	for _, s := range servers {
		if !strings.HasPrefix(s.Name, testNamePrefix) {
			continue
		}
		if err := c.DeleteServer(ctx, s.ID); err != nil && !errors.Is(err, vpsorg.ErrNotFound) {
			errs = append(errs, fmt.Errorf("server %d (%s): %w", s.ID, s.Name, err))
			continue
		}
		deleted = append(deleted, fmt.Sprintf("%d (%s)", s.ID, s.Name))
	}
	return deleted, errors.Join(errs...)
}

func TestSweepServers_deletesOnlyTestServers(t *testing.T) {
	emu, err := emulator.Start(emulator.Options{Tokens: map[string]string{testToken: "acc"}, PageSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emu.Close() })
	names := map[string]bool{ // name: swept
		"tfacc-a1b2c3-web":   true,
		"tfacc-x":            true,
		"tfacc-":             true,
		"web":                false,
		"prod-tfacc-a1b2c3":  false,
		"TFACC-a1b2c3-web":   false,
		"tfacc":              false,
		"tf-acc-a1b2c3-web":  false,
		"tfaccount-database": false,
	}
	for name := range names {
		if _, err := emu.AddServer("acc", emulator.ServerSpec{Name: name, PlanID: 1, OSID: 5, Location: "us-west", Status: "active"}); err != nil {
			t.Fatal(err)
		}
	}
	client, err := vpsorg.New(vpsorg.Config{Endpoint: emu.URL(), Token: testToken})
	if err != nil {
		t.Fatal(err)
	}

	deleted, err := sweepServers(t.Context(), client)
	if err != nil {
		t.Fatal(err)
	}
	if len(deleted) != 3 {
		t.Errorf("swept %v, want the 3 servers named tfacc-*", deleted)
	}
	var left []string
	for _, s := range emu.Servers("acc") {
		left = append(left, s.Name)
	}
	slices.Sort(left)
	var want []string
	for name, swept := range names {
		if !swept {
			want = append(want, name)
		}
	}
	slices.Sort(want)
	if !slices.Equal(left, want) {
		t.Errorf("after the sweep the account holds %v, want %v", left, want)
	}
}
