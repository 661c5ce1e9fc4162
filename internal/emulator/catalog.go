package emulator

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

// Plans 1 and 2 and OS 3 and 5 are the values the vendor's examples show;
// the others are the emulator's own, so that tests can change plan or image.
var (
	catalogPlans = []Plan{
		{ID: 1, Name: "Standard VPS", VCPUs: 2, Memory: 4096, Storage: 80, Bandwidth: 2048},
		{ID: 2, Name: "Performance VPS", VCPUs: 4, Memory: 8192, Storage: 160, Bandwidth: 4096},
		{ID: 3, Name: "Starter VPS", VCPUs: 1, Memory: 2048, Storage: 40, Bandwidth: 1024},
		{ID: 4, Name: "Memory VPS", VCPUs: 4, Memory: 16384, Storage: 160, Bandwidth: 4096},
	}
	catalogOS = []OS{
		{ID: 1, Name: "Debian 11"},
		{ID: 3, Name: "Debian 12"},
		{ID: 5, Name: "Ubuntu 22.04 LTS"},
		{ID: 6, Name: "Ubuntu 24.04 LTS"},
		{ID: 7, Name: "Rocky Linux 9"},
	}
	catalogLocations = []string{"us-west", "us-east", "eu-central", "ap-south"}
)

// Plans returns a copy of the plan catalog, ordered by ID.
func Plans() []Plan { return append([]Plan(nil), catalogPlans...) }

// OperatingSystems returns a copy of the OS catalog, ordered by ID.
func OperatingSystems() []OS { return append([]OS(nil), catalogOS...) }

// Locations returns a copy of the data-center location codes.
func Locations() []string { return append([]string(nil), catalogLocations...) }

func findPlan(id int64) (Plan, bool) {
	for _, p := range catalogPlans {
		if p.ID == id {
			return p, true
		}
	}
	return Plan{}, false
}

func findOS(id int64) (OS, bool) {
	for _, o := range catalogOS {
		if o.ID == id {
			return o, true
		}
	}
	return OS{}, false
}

func knownLocation(code string) bool {
	for _, l := range catalogLocations {
		if l == code {
			return true
		}
	}
	return false
}
