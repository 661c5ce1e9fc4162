package provider

import (
	dschema "github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	rschema "github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/objectplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
)

// Every attribute the API reports about a server is described once, here.
// The resource, both data sources and the list resource build their
// computed attributes from these lists; the attributes a user configures
// are described in server_schema.go.

type fieldKind int

const (
	stringField fieldKind = iota
	int64Field
	float64Field
	boolField
	objectField
)

type field struct {
	name        string
	description string
	kind        fieldKind
	nested      []field // objectField only
	// fixed marks a value that never changes once the server exists: the
	// resource plans it as its prior value instead of "known after apply".
	// A null prior value is not fixed yet (the addresses of a server still
	// provisioning), so it stays "known after apply".
	fixed bool
}

var (
	planFields = []field{
		{name: "id", description: "Plan id.", kind: int64Field},
		{name: "name", description: "Plan name, such as `Standard VPS`.", kind: stringField},
		{name: "vcpus", description: "Number of virtual CPUs.", kind: int64Field},
		{name: "memory", description: "Memory in MB.", kind: int64Field},
		{name: "storage", description: "Disk size in GB.", kind: int64Field},
	}
	planDetailFields = append(append([]field{}, planFields...),
		field{name: "bandwidth", description: "Monthly transfer allowance in GB.", kind: int64Field})

	osFields = []field{
		{name: "id", description: "Operating system id.", kind: int64Field},
		{name: "name", description: "Operating system name, such as `Ubuntu 22.04 LTS`.", kind: stringField},
	}

	resourceUsageFields = []field{
		{name: "cpu_percent", description: "CPU use, 0 to 100.", kind: float64Field},
		{name: "memory_used", description: "Memory in use, in MB.", kind: int64Field},
		{name: "disk_used", description: "Disk in use, in GB.", kind: int64Field},
		{name: "bandwidth_used", description: "Transfer used this month, in GB.", kind: int64Field},
	}

	// serverListViewFields are the attributes of a server in the list view.
	serverListViewFields = []field{
		{name: "id", description: "The server's numeric id, as a string.", kind: stringField, fixed: true},
		{name: "name", description: "The server's name.", kind: stringField},
		{name: "hostname", description: "The server's fully qualified domain name, if it has one.", kind: stringField},
		{name: "status", description: "The status the API reports: `provisioning`, `active`, `stopped`, `suspended`, " +
			"`starting`, `stopping` or `rebooting` (a status this provider does not know is shown as the API gives it).", kind: stringField},
		{name: "ip_address", description: "Public IPv4 address; null while provisioning.", kind: stringField, fixed: true},
		{name: "location", description: "Data-center location code, such as `us-west`.", kind: stringField},
		{name: "plan", description: "The plan the server runs on, as the API describes it.", kind: objectField, nested: planFields, fixed: true},
		{name: "os", description: "The server's operating system, as the API describes it.", kind: objectField, nested: osFields, fixed: true},
		{name: "created_at", description: "When the server was created (RFC 3339).", kind: stringField, fixed: true},
		{name: "updated_at", description: "When the server last changed (RFC 3339).", kind: stringField},
	}

	// serverDetailViewFields are the attributes of a server in the detail view.
	serverDetailViewFields = append(replaceField(serverListViewFields, "plan", func(f *field) { f.nested = planDetailFields }),
		field{name: "ipv6_address", description: "Public IPv6 address; null while provisioning or when the server has none.", kind: stringField, fixed: true},
		field{name: "backups_enabled", description: "Whether automatic backups are enabled.", kind: boolField},
		field{name: "resource_usage", description: "Current resource use.", kind: objectField, nested: resourceUsageFields},
	)
)

// replaceField returns a copy of fields with the named one changed by edit.
func replaceField(fields []field, name string, edit func(*field)) []field {
	out := append([]field{}, fields...)
	for i := range out {
		if out[i].name == name {
			edit(&out[i])
		}
	}
	return out
}

// pickFields returns the named fields, in the order given.
func pickFields(fields []field, names ...string) []field {
	out := make([]field, 0, len(names))
	for _, name := range names {
		for _, f := range fields {
			if f.name == name {
				out = append(out, f)
			}
		}
	}
	return out
}

// resourceComputed turns fields into computed resource attributes.
func resourceComputed(fields []field) map[string]rschema.Attribute {
	out := make(map[string]rschema.Attribute, len(fields))
	for _, f := range fields {
		switch f.kind {
		case stringField:
			a := rschema.StringAttribute{MarkdownDescription: f.description, Computed: true}
			if f.fixed {
				a.PlanModifiers = []planmodifier.String{stringplanmodifier.UseNonNullStateForUnknown()}
			}
			out[f.name] = a
		case int64Field:
			out[f.name] = rschema.Int64Attribute{MarkdownDescription: f.description, Computed: true}
		case float64Field:
			out[f.name] = rschema.Float64Attribute{MarkdownDescription: f.description, Computed: true}
		case boolField:
			out[f.name] = rschema.BoolAttribute{MarkdownDescription: f.description, Computed: true}
		case objectField:
			a := rschema.SingleNestedAttribute{MarkdownDescription: f.description, Computed: true, Attributes: resourceComputed(f.nested)}
			if f.fixed {
				a.PlanModifiers = []planmodifier.Object{objectplanmodifier.UseNonNullStateForUnknown()}
			}
			out[f.name] = a
		}
	}
	return out
}

// dataSourceComputed turns fields into computed data source attributes.
func dataSourceComputed(fields []field) map[string]dschema.Attribute {
	out := make(map[string]dschema.Attribute, len(fields))
	for _, f := range fields {
		switch f.kind {
		case stringField:
			out[f.name] = dschema.StringAttribute{MarkdownDescription: f.description, Computed: true}
		case int64Field:
			out[f.name] = dschema.Int64Attribute{MarkdownDescription: f.description, Computed: true}
		case float64Field:
			out[f.name] = dschema.Float64Attribute{MarkdownDescription: f.description, Computed: true}
		case boolField:
			out[f.name] = dschema.BoolAttribute{MarkdownDescription: f.description, Computed: true}
		case objectField:
			out[f.name] = dschema.SingleNestedAttribute{MarkdownDescription: f.description, Computed: true, Attributes: dataSourceComputed(f.nested)}
		}
	}
	return out
}
