package provider

import (
	dschema "github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	rschema "github.com/hashicorp/terraform-plugin-framework/resource/schema"
)

// The computed server attributes are described once, here, and turned into
// resource or data source schema attributes as needed.

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
}

var (
	planFields = []field{
		{name: "id", description: "Plan id.", kind: int64Field},
		{name: "name", description: "Plan name, such as `Standard VPS`.", kind: stringField},
		{name: "vcpus", description: "Number of virtual CPUs.", kind: int64Field},
		{name: "memory", description: "Memory in MB.", kind: int64Field},
		{name: "storage", description: "Disk size in GB.", kind: int64Field},
	}
	planBandwidthField = field{name: "bandwidth", description: "Monthly transfer allowance in GB.", kind: int64Field}

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
		{name: "id", description: "The server's numeric id, as a string.", kind: stringField},
		{name: "name", description: "The server's name.", kind: stringField},
		{name: "hostname", description: "The server's fully qualified domain name, if it has one.", kind: stringField},
		{name: "status", description: "The server's status: `provisioning`, `active`, `stopped`, `suspended`, `starting`, `stopping` or `rebooting`.", kind: stringField},
		{name: "ip_address", description: "Public IPv4 address; null while provisioning.", kind: stringField},
		{name: "location", description: "Data-center location code.", kind: stringField},
		{name: "plan", description: "The server's plan.", kind: objectField, nested: planFields},
		{name: "os", description: "The server's operating system.", kind: objectField, nested: osFields},
		{name: "created_at", description: "When the server was created (RFC 3339).", kind: stringField},
		{name: "updated_at", description: "When the server last changed (RFC 3339).", kind: stringField},
	}

	// serverDetailViewFields are the attributes of a server in the detail view.
	serverDetailViewFields = append(replaceField(serverListViewFields,
		field{name: "plan", description: "The server's plan.", kind: objectField, nested: append(append([]field{}, planFields...), planBandwidthField)}),
		field{name: "ipv6_address", description: "Public IPv6 address; null while provisioning.", kind: stringField},
		field{name: "backups_enabled", description: "Whether automatic backups are enabled.", kind: boolField},
		field{name: "resource_usage", description: "Current resource use.", kind: objectField, nested: resourceUsageFields},
	)
)

func replaceField(fields []field, f field) []field {
	out := make([]field, len(fields))
	for i, old := range fields {
		if old.name == f.name {
			old = f
		}
		out[i] = old
	}
	return out
}

// planAttributes are the resource's nested plan attributes.
func planAttributes(withBandwidth bool) map[string]rschema.Attribute {
	fields := planFields
	if withBandwidth {
		fields = append(append([]field{}, planFields...), planBandwidthField)
	}
	return resourceComputed(fields)
}

// osAttributes are the resource's nested os attributes.
func osAttributes() map[string]rschema.Attribute {
	return resourceComputed(osFields)
}

func resourceComputed(fields []field) map[string]rschema.Attribute {
	out := make(map[string]rschema.Attribute, len(fields))
	for _, f := range fields {
		switch f.kind {
		case stringField:
			out[f.name] = rschema.StringAttribute{MarkdownDescription: f.description, Computed: true}
		case int64Field:
			out[f.name] = rschema.Int64Attribute{MarkdownDescription: f.description, Computed: true}
		case float64Field:
			out[f.name] = rschema.Float64Attribute{MarkdownDescription: f.description, Computed: true}
		case boolField:
			out[f.name] = rschema.BoolAttribute{MarkdownDescription: f.description, Computed: true}
		case objectField:
			out[f.name] = rschema.SingleNestedAttribute{MarkdownDescription: f.description, Computed: true, Attributes: resourceComputed(f.nested)}
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
