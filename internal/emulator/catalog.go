package emulator

import (
	"slices"
	"strconv"
	"strings"
)

// Plan is a VPS plan in the emulator's fixed catalog. Memory is in MB,
// Storage and Bandwidth in GB, as the API documents by example.
type Plan struct {
	ID        int64
	Name      string
	VCPUs     int
	Memory    int
	Storage   int
	Bandwidth int
}

// OS is an operating system image in the emulator's fixed catalog.
type OS struct {
	ID   int64
	Name string
}

// catalog is what a create may choose from. The API has no endpoint that
// lists it, so an account's real catalog is known only by trying.
type catalog struct {
	plans     []Plan
	systems   []OS
	locations []string
}

// documented is exactly what the vendor's examples show: plans 1 and 2,
// OS 3 and 5, us-west and us-east. It is the default, so that what passes
// against the emulator assumes no more of the API than its documentation.
var documented = catalog{
	plans: []Plan{
		{ID: 1, Name: "Standard VPS", VCPUs: 2, Memory: 4096, Storage: 80, Bandwidth: 2048},
		{ID: 2, Name: "Performance VPS", VCPUs: 4, Memory: 8192, Storage: 160, Bandwidth: 4096},
	},
	systems: []OS{
		{ID: 3, Name: "Debian 12"},
		{ID: 5, Name: "Ubuntu 22.04 LTS"},
	},
	locations: []string{"us-west", "us-east"},
}

// extended adds values of the emulator's own invention to the documented
// ones (Options.ExtendedCatalog), for demos that want more choice. No real
// account is promised to have them.
var extended = catalog{
	plans: append(slices.Clone(documented.plans),
		Plan{ID: 3, Name: "Starter VPS", VCPUs: 1, Memory: 2048, Storage: 40, Bandwidth: 1024},
		Plan{ID: 4, Name: "Memory VPS", VCPUs: 4, Memory: 16384, Storage: 160, Bandwidth: 4096},
	),
	systems: []OS{
		{ID: 1, Name: "Debian 11"},
		{ID: 3, Name: "Debian 12"},
		{ID: 5, Name: "Ubuntu 22.04 LTS"},
		{ID: 6, Name: "Ubuntu 24.04 LTS"},
		{ID: 7, Name: "Rocky Linux 9"},
	},
	locations: append(slices.Clone(documented.locations), "eu-central", "ap-south"),
}

func catalogFor(extendedCatalog bool) catalog {
	if extendedCatalog {
		return extended
	}
	return documented
}

// Plans returns a copy of the documented plan catalog, ordered by ID.
func Plans() []Plan { return slices.Clone(documented.plans) }

// OperatingSystems returns a copy of the documented OS catalog, ordered by ID.
func OperatingSystems() []OS { return slices.Clone(documented.systems) }

// Locations returns a copy of the documented data-center location codes.
func Locations() []string { return slices.Clone(documented.locations) }

// Plans returns a copy of the plans this emulator accepts, ordered by ID.
func (e *Emulator) Plans() []Plan { return slices.Clone(e.catalog.plans) }

// OperatingSystems returns a copy of the systems this emulator accepts.
func (e *Emulator) OperatingSystems() []OS { return slices.Clone(e.catalog.systems) }

// Locations returns a copy of the locations this emulator accepts.
func (e *Emulator) Locations() []string { return slices.Clone(e.catalog.locations) }

func (c catalog) plan(id int64) (Plan, bool) {
	i := slices.IndexFunc(c.plans, func(p Plan) bool { return p.ID == id })
	if i < 0 {
		return Plan{}, false
	}
	return c.plans[i], true
}

func (c catalog) os(id int64) (OS, bool) {
	i := slices.IndexFunc(c.systems, func(o OS) bool { return o.ID == id })
	if i < 0 {
		return OS{}, false
	}
	return c.systems[i], true
}

func (c catalog) knownLocation(code string) bool { return slices.Contains(c.locations, code) }

func (c catalog) planIDs() string {
	ids := make([]string, len(c.plans))
	for i, p := range c.plans {
		ids[i] = strconv.FormatInt(p.ID, 10)
	}
	return strings.Join(ids, ", ")
}

func (c catalog) osIDs() string {
	ids := make([]string, len(c.systems))
	for i, o := range c.systems {
		ids[i] = strconv.FormatInt(o.ID, 10)
	}
	return strings.Join(ids, ", ")
}
