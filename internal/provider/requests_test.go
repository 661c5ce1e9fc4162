package provider

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/vpsorg/terraform-provider-vpsorg/internal/emulator"
)

// Counting what the provider sent is the one check against the emulator's
// request log that most tests make: these helpers are the one way to make it.

// requests selects entries of the emulator's request log. A zero field
// matches anything.
type requests struct {
	route  string // "METHOD ROUTE", as the route* constants
	path   string // the path itself, to tell servers apart
	status int    // the status the client got
}

func (q requests) matches(r emulator.Request) bool {
	if q.route != "" && r.Method+" "+r.Route != q.route || q.path != "" && r.Path != q.path {
		return false
	}
	return q.status == 0 || r.Status == q.status
}

func (q requests) String() string {
	s := cmp.Or(q.route, "requests")
	if q.status != 0 {
		s += fmt.Sprintf(" answered %d", q.status)
	}
	return s
}

// sent counts the requests the emulator in process has seen that q
// selects, since the log was last reset.
func (e *testEnv) sent(q requests) int {
	n := 0
	for _, r := range e.emulator.Requests() {
		if q.matches(r) {
			n++
		}
	}
	return n
}

// expectSent checks, in process, that the log holds exactly the counts
// given for each route ("METHOD ROUTE"); against an endpoint from the
// environment it logs what went unchecked.
func (e *testEnv) expectSent(want map[string]int) resource.TestCheckFunc {
	routes := slices.Sorted(maps.Keys(want))
	what := "how many " + strings.Join(routes, ", ") + " requests were sent (the emulator's request log)"
	return func(*terraform.State) error {
		return e.onEmulator(what, func(*emulator.Emulator) error {
			var wrong []string
			for _, route := range routes {
				if got := e.sent(requests{route: route}); got != want[route] {
					wrong = append(wrong, fmt.Sprintf("%s sent %d times, want %d", route, got, want[route]))
				}
			}
			if len(wrong) > 0 {
				return fmt.Errorf("%s", strings.Join(wrong, "; "))
			}
			return nil
		})
	}
}
