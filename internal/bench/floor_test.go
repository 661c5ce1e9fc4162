package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
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

// dataConfig is N terraform_data resources and nothing else.
func dataConfig(n int) string {
	return fmt.Sprintf(`resource "terraform_data" "floor" {
  count = %d

  input = "floor-${count.index}"
}
`, n)
}

// measureDataDestroy creates n terraform_data resources (not measured) and
// measures their destroy.
func (h *harness) measureDataDestroy(ctx context.Context, b *testing.B, emu *emulator.Emulator, env []string, n int) (*phase, error) {
	dir := filepath.Join(h.tmp, fmt.Sprintf("terraform-data-%d", n))
	if err := os.Mkdir(dir, 0o700); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(dataConfig(n)), 0o600); err != nil {
		return nil, err
	}
	p := "-parallelism=" + strconv.Itoa(h.parallelism)
	b.Logf("N=%d: terraform_data apply (setup, not measured)", n)
	setup, err := h.measureWith(ctx, emu, env, dir, "terraform_data apply", n, false, "apply", "-auto-approve", "-input=false", "-no-color", p)
	if err != nil {
		return nil, err
	}
	if setup.Failed != "" {
		return &phase{Name: "terraform_data destroy", N: n, Skipped: "its apply failed: " + setup.Failed}, nil
	}
	b.Logf("N=%d: terraform_data destroy", n)
	return h.measureWith(ctx, emu, env, dir, "terraform_data destroy", n, false, "destroy", "-auto-approve", "-input=false", "-no-color", p)
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

// printDestroyFloor prints the destroy against its floor.
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
}
