package provider

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
)

// The catalog values acceptance tests make servers with. The API has no
// endpoint that lists plans, systems or locations, so the tests assume only
// those its documentation shows (plans 1 and 2, OS 5 and 3, us-west and
// us-east), which the emulator's default catalog holds too. An account that
// lacks them names two of its own in each variable, comma-separated: the
// first is what a test uses by default, the second where it needs another.
const (
	envAccPlanIDs   = "VPSORG_ACC_PLAN_IDS"
	envAccOSIDs     = "VPSORG_ACC_OS_IDS"
	envAccLocations = "VPSORG_ACC_LOCATIONS"
)

// accCatalog is the catalog of this run; see catalog.
type accCatalog struct {
	plans     [2]int64
	systems   [2]int64
	locations [2]string
	// documented is set when every value is the documented one, so that
	// tests may check the names and sizes the documentation gives them.
	documented bool
}

// catalog is set once, in TestMain (loadCatalog), and only read after.
var catalog = documentedCatalog

var documentedCatalog = accCatalog{
	plans:      [2]int64{1, 2},
	systems:    [2]int64{5, 3},
	locations:  [2]string{"us-west", "us-east"},
	documented: true,
}

// loadCatalog sets catalog from the environment.
func loadCatalog() error {
	c, err := catalogFrom(os.Getenv)
	if err != nil {
		return err
	}
	catalog = c
	return nil
}

// catalogFrom reads the catalog variables through getenv; a variable not
// set keeps the documented values.
func catalogFrom(getenv func(string) string) (accCatalog, error) {
	c := documentedCatalog
	for _, v := range []struct {
		name string
		set  func([2]string) error
	}{
		{envAccPlanIDs, func(s [2]string) (err error) { c.plans, err = twoIDs(s); return err }},
		{envAccOSIDs, func(s [2]string) (err error) { c.systems, err = twoIDs(s); return err }},
		{envAccLocations, func(s [2]string) error { c.locations = s; return nil }},
	} {
		raw := getenv(v.name)
		if raw == "" {
			continue
		}
		parts := strings.Split(raw, ",")
		if len(parts) != 2 || strings.TrimSpace(parts[0]) == "" || strings.TrimSpace(parts[1]) == "" {
			return c, fmt.Errorf("%s=%q: want two values separated by a comma, the default first", v.name, raw)
		}
		if err := v.set([2]string{strings.TrimSpace(parts[0]), strings.TrimSpace(parts[1])}); err != nil {
			return c, fmt.Errorf("%s=%q: %w", v.name, raw, err)
		}
	}
	c.documented = c.plans == documentedCatalog.plans && c.systems == documentedCatalog.systems && c.locations == documentedCatalog.locations
	return c, nil
}

func twoIDs(s [2]string) ([2]int64, error) {
	var ids [2]int64
	for i, v := range s {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id < 1 {
			return ids, fmt.Errorf("%q is not a positive integer id", v)
		}
		ids[i] = id
	}
	return ids, nil
}

// documentedOr checks the value the documentation gives when the catalog
// is the documented one; with an account's own catalog, only that the API
// set something.
func (c accCatalog) documentedOr(check knownvalue.Check) knownvalue.Check {
	if c.documented {
		return check
	}
	return knownvalue.NotNull()
}

// setByAPI accepts any value the API may fill in when the configuration
// sets none (a hostname not sent, say): the documentation leaves it open,
// so null and any string are both right. What it asserts is that the
// attribute is present in the object, with no guess at its value.
func setByAPI() knownvalue.Check { return anyValue{} }

type anyValue struct{}

func (anyValue) CheckValue(any) error { return nil }
func (anyValue) String() string       { return "any value the API chose" }

// unknownPlanID is a plan id no account is expected to have, for creates the
// API must refuse with 400.
const unknownPlanID = 987654

// The catalog variables: unset, the documented values; set, the account's
// own, in order, and names are then no longer checked; malformed, an error
// naming the variable.
func TestCatalogFrom(t *testing.T) {
	env := func(vars map[string]string) func(string) string { return func(k string) string { return vars[k] } }

	c, err := catalogFrom(env(nil))
	if err != nil || c != documentedCatalog {
		t.Errorf("unset: %+v, %v; want the documented catalog", c, err)
	}

	c, err = catalogFrom(env(map[string]string{envAccPlanIDs: "11, 12", envAccOSIDs: "7,8", envAccLocations: "fra1,ams1"}))
	want := accCatalog{plans: [2]int64{11, 12}, systems: [2]int64{7, 8}, locations: [2]string{"fra1", "ams1"}}
	if err != nil || c != want {
		t.Errorf("set: %+v, %v; want %+v", c, err, want)
	}
	if c.documentedOr(knownvalue.StringExact("Standard VPS")).String() == knownvalue.StringExact("Standard VPS").String() {
		t.Errorf("an account's own catalog still checks the documented names")
	}

	for _, bad := range []map[string]string{
		{envAccPlanIDs: "1"}, {envAccPlanIDs: "1,2,3"}, {envAccPlanIDs: "1,x"}, {envAccOSIDs: "0,5"}, {envAccLocations: "us-west,"},
	} {
		if _, err := catalogFrom(env(bad)); err == nil {
			t.Errorf("%v: no error", bad)
		} else {
			for name := range bad {
				if !strings.Contains(err.Error(), name) {
					t.Errorf("%v: error %q does not name %s", bad, err, name)
				}
			}
		}
	}
}
