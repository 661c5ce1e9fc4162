package provider

import (
	"strconv"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/vpsorg/terraform-provider-vpsorg/internal/vpsorg"
)

// The models nest: serverListFields is what the list view gives and what
// every model has; serverDetailFields adds what only the detail view gives.
// fill is the one mapping from an API server to state, used by the resource
// (create, read, update, import) and by both data sources.

type serverListFields struct {
	ID        types.String `tfsdk:"id"`
	Name      types.String `tfsdk:"name"`
	Hostname  types.String `tfsdk:"hostname"`
	Status    types.String `tfsdk:"status"`
	IPAddress types.String `tfsdk:"ip_address"`
	Location  types.String `tfsdk:"location"`
	Plan      types.Object `tfsdk:"plan"`
	OS        types.Object `tfsdk:"os"`
	CreatedAt types.String `tfsdk:"created_at"`
	UpdatedAt types.String `tfsdk:"updated_at"`
}

type serverDetailFields struct {
	serverListFields
	IPv6Address    types.String `tfsdk:"ipv6_address"`
	BackupsEnabled types.Bool   `tfsdk:"backups_enabled"`
}

var (
	osAttrTypes = map[string]attr.Type{
		"id":   types.Int64Type,
		"name": types.StringType,
	}
	listPlanAttrTypes = map[string]attr.Type{
		"id":      types.Int64Type,
		"name":    types.StringType,
		"vcpus":   types.Int64Type,
		"memory":  types.Int64Type,
		"storage": types.Int64Type,
	}
	detailPlanAttrTypes = withAttr(listPlanAttrTypes, "bandwidth", types.Int64Type)

	resourceUsageAttrTypes = map[string]attr.Type{
		"cpu_percent":    types.Float64Type,
		"memory_used":    types.Int64Type,
		"disk_used":      types.Int64Type,
		"bandwidth_used": types.Int64Type,
	}
)

func (m *serverListFields) fill(s *vpsorg.Server) {
	m.fillWithPlan(s, listPlanAttrTypes)
}

func (m *serverListFields) fillWithPlan(s *vpsorg.Server, planTypes map[string]attr.Type) {
	m.ID = types.StringValue(strconv.FormatInt(s.ID, 10))
	m.Name = types.StringValue(s.Name)
	m.Hostname = types.StringPointerValue(s.Hostname)
	m.Status = types.StringValue(s.Status)
	m.IPAddress = types.StringPointerValue(s.IPAddress)
	m.Location = types.StringValue(s.Location)
	m.CreatedAt = types.StringValue(s.CreatedAt)
	m.UpdatedAt = types.StringValue(s.UpdatedAt)

	plan := map[string]attr.Value{
		"id":      types.Int64Value(s.Plan.ID),
		"name":    types.StringValue(s.Plan.Name),
		"vcpus":   types.Int64Value(s.Plan.VCPUs),
		"memory":  types.Int64Value(s.Plan.Memory),
		"storage": types.Int64Value(s.Plan.Storage),
	}
	if _, ok := planTypes["bandwidth"]; ok {
		plan["bandwidth"] = types.Int64PointerValue(s.Plan.Bandwidth)
	}
	m.Plan = types.ObjectValueMust(planTypes, plan)
	m.OS = types.ObjectValueMust(osAttrTypes, map[string]attr.Value{
		"id":   types.Int64Value(s.OS.ID),
		"name": types.StringValue(s.OS.Name),
	})
}

// fill maps a detail-view server. A view without backups_enabled (the create
// answer has it, the list does not) leaves the prior value in place.
func (m *serverDetailFields) fill(s *vpsorg.Server) {
	m.fillWithPlan(s, detailPlanAttrTypes)
	m.IPv6Address = types.StringPointerValue(s.IPv6Address)
	if s.BackupsEnabled != nil {
		m.BackupsEnabled = types.BoolValue(*s.BackupsEnabled)
	}
}

func resourceUsageValue(u *vpsorg.ResourceUsage) types.Object {
	if u == nil {
		return types.ObjectNull(resourceUsageAttrTypes)
	}
	return types.ObjectValueMust(resourceUsageAttrTypes, map[string]attr.Value{
		"cpu_percent":    types.Float64Value(u.CPUPercent),
		"memory_used":    types.Int64Value(u.MemoryUsed),
		"disk_used":      types.Int64Value(u.DiskUsed),
		"bandwidth_used": types.Int64Value(u.BandwidthUsed),
	})
}

func withAttr(base map[string]attr.Type, name string, t attr.Type) map[string]attr.Type {
	out := make(map[string]attr.Type, len(base)+1)
	for k, v := range base {
		out[k] = v
	}
	out[name] = t
	return out
}

// Power states as the resource exposes them.
const (
	powerRunning = "running"
	powerStopped = "stopped"
)

// powerStateOf says where a status leads: transient statuses count as the
// state they end in. ok is false for a status the provider does not know.
func powerStateOf(status string) (state string, ok bool) {
	switch status {
	case vpsorg.StatusActive, vpsorg.StatusStarting, vpsorg.StatusRebooting, vpsorg.StatusProvisioning:
		return powerRunning, true
	case vpsorg.StatusStopped, vpsorg.StatusStopping, vpsorg.StatusSuspended:
		return powerStopped, true
	default:
		return "", false
	}
}

// parseID turns a state or import id into the API's integer id.
func parseID(id string) (int64, bool) {
	n, err := strconv.ParseInt(id, 10, 64)
	return n, err == nil && n > 0
}
