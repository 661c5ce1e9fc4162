package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vpsorg/terraform-provider-vpsorg/internal/emulator"
)

// The floor of a destroy. Deleting a server is immediate in the emulator,
// so what bounds a destroy from below is Terraform itself: its refresh,
// graph walk and state writes for N resources. The same N terraform_data
// resources, which call no API, measure that in the same run; the destroy's
// floor is the larger of it and what the API's latency and rate limit
// allow (lowerBound).
//
// Terraform writes the whole state after each resource it destroys, so a
// destroy of N costs it in proportion to N × the state's size, and a
// server's state is more than twice a terraform_data's. So a second
// reference is measured beside the floor: N terraform_data whose input
// (kept twice, as input and output) is padded until their state is as
// large as the servers' was before the destroy. It is what Terraform alone
// takes to destroy that much state; the provider's share of a destroy is
// what is left over.

// dataConfig is N terraform_data resources and nothing else, each input
// padded with pad bytes.
func dataConfig(n, pad int) string {
	return fmt.Sprintf(`resource "terraform_data" "floor" {
  count = %d

  input = "floor-${count.index}%s"
}
`, n, strings.Repeat("x", pad))
}

// measureDataDestroy creates n terraform_data resources (not measured),
// each input padded with pad bytes, in a directory named after name, and
// measures their destroy; it returns the phase and the size of the state
// it destroyed.
func (h *harness) measureDataDestroy(ctx context.Context, b *testing.B, emu *emulator.Emulator, env []string, n int, name string, pad int) (*phase, int64, error) {
	// A directory of its own each time: each manner of a fleet measures
	// its floor again.
	dir, err := os.MkdirTemp(h.tmp, fmt.Sprintf("%s-%d-", strings.ReplaceAll(name, " ", "-"), n))
	if err != nil {
		return nil, 0, err
	}
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(dataConfig(n, pad)), 0o600); err != nil {
		return nil, 0, err
	}
	p := "-parallelism=" + strconv.Itoa(h.parallelism)
	b.Logf("N=%d: %s apply (setup, not measured)", n, name)
	setup, err := h.measureWith(ctx, emu, env, dir, name+" apply", n, false, "apply", "-auto-approve", "-input=false", "-no-color", p)
	if err != nil {
		return nil, 0, err
	}
	if setup.Failed != "" {
		return &phase{Name: name + " destroy", N: n, Skipped: "its apply failed: " + setup.Failed}, 0, nil
	}
	size := stateSize(dir)
	b.Logf("N=%d: %s destroy", n, name)
	ph, err := h.measureWith(ctx, emu, env, dir, name+" destroy", n, false, "destroy", "-auto-approve", "-input=false", "-no-color", p)
	return ph, size, err
}

// stateSize is the size of the local state in dir; 0 when there is none.
func stateSize(dir string) int64 {
	fi, err := os.Stat(filepath.Join(dir, "terraform.tfstate"))
	if err != nil {
		return 0
	}
	return fi.Size()
}

// measureDataFloors measures the two references of a destroy of n servers
// whose state was serverState bytes: terraform_data as they are, then
// padded to the servers' state size.
func (h *harness) measureDataFloors(ctx context.Context, b *testing.B, emu *emulator.Emulator, env []string, res *fleetResult, serverState int64) error {
	n := res.N
	var plain int64
	var err error
	if res.DataDestroy, plain, err = h.measureDataDestroy(ctx, b, emu, env, n, "terraform_data", 0); err != nil {
		return err
	}
	res.ServerStateBytes, res.DataStateBytes = serverState, plain
	if plain <= 0 || serverState <= plain {
		return nil
	}
	pad := int((serverState - plain) / int64(2*n))
	res.SizedDataDestroy, res.SizedDataStateBytes, err = h.measureDataDestroy(ctx, b, emu, env, n, "terraform_data sized", pad)
	return err
}

// destroyFloor is the destroy's floor: the larger of Terraform's own
// destroy of as many terraform_data and the API's bound; 0 when either is
// missing.
func destroyFloor(res *fleetResult) (time.Duration, string) {
	d, data := res.Destroy, res.DataDestroy
	if !ok(d) || !ok(data) {
		return 0, ""
	}
	if d.TimeBound > data.Run.Wall {
		return d.TimeBound, d.TimeBoundText
	}
	return data.Run.Wall, "terraform_data destroy"
}

// printDestroyFloor prints the destroy against its floor, and against
// Terraform's own destroy of as much state.
func printDestroyFloor(w io.Writer, res *fleetResult) {
	floor, what := destroyFloor(res)
	if floor <= 0 {
		if res.DataDestroy != nil && !ok(res.DataDestroy) {
			fmt.Fprintf(w, "destroy floor: not measured (terraform_data destroy %s%s).\n", res.DataDestroy.Skipped, res.DataDestroy.Failed)
		}
		return
	}
	fmt.Fprintf(w, "destroy: %s against a floor of %s (%s; Terraform's own destroy of %d `terraform_data` took %s): **%.2f×**.\n",
		secs(res.Destroy.Run.Wall), secs(floor), what, res.N, secs(res.DataDestroy.Run.Wall), res.Destroy.Run.Wall.Seconds()/floor.Seconds())
	if sized := res.SizedDataDestroy; ok(sized) {
		fmt.Fprintf(w, "destroy against as much state: the servers' state was %s, the `terraform_data` one %s; "+
			"Terraform's own destroy of %d `terraform_data` padded to %s took %s: **%.2f×**.\n",
			kib(res.ServerStateBytes), kib(res.DataStateBytes), res.N, kib(res.SizedDataStateBytes),
			secs(sized.Run.Wall), res.Destroy.Run.Wall.Seconds()/sized.Run.Wall.Seconds())
	}
}

// kib is a size in KiB, for the report.
func kib(n int64) string { return fmt.Sprintf("%d KiB", (n+512)/1024) }
