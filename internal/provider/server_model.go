package provider

import (
	"fmt"
	"strconv"

	dstimeouts "github.com/hashicorp/terraform-plugin-framework-timeouts/datasource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/vpsorg/terraform-provider-vpsorg/internal/vpsorg"
)

// The one mapping between the API's server and Terraform models. The models
// nest: serverListFields is what the list view gives and what every model
// has; serverDetailFields adds what only the detail view gives. Each model's
// fromAPI is the only code that turns a vpsorg.Server into state: the
// resource (create, read, update, import), both data sources and the list
// resource use it. Requests are built here too, one function a kind.

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

// modelFromAPI is what every server model implements; the assertions below
// make the compiler check that none is missed.
type modelFromAPI interface {
	fromAPI(s *vpsorg.Server) diag.Diagnostics
}

var (
	_ modelFromAPI = (*serverListFields)(nil)
	_ modelFromAPI = (*serverDataSourceModel)(nil)
	_ modelFromAPI = (*serverResourceModel)(nil)
)

// serverResourceModel is the vpsorg_server resource's state.
type serverResourceModel struct {
	serverDetailFields
	PlanID        types.Int64  `tfsdk:"plan_id"`
	OSID          types.Int64  `tfsdk:"os_id"`
	SSHKeyID      types.Int64  `tfsdk:"ssh_key_id"`
	PowerState    types.String `tfsdk:"power_state"`
	RebootTrigger types.String `tfsdk:"reboot_trigger"`
	// ShutdownBeforeDelete is the provider's own setting, not the API's.
	ShutdownBeforeDelete types.Bool     `tfsdk:"shutdown_before_delete"`
	Timeouts             timeouts.Value `tfsdk:"timeouts"`
}

// serverDataSourceModel is the vpsorg_server data source's state.
type serverDataSourceModel struct {
	serverDetailFields
	ResourceUsage types.Object     `tfsdk:"resource_usage"`
	Timeouts      dstimeouts.Value `tfsdk:"timeouts"`
}

func (m *serverListFields) fromAPI(s *vpsorg.Server) diag.Diagnostics {
	m.fillWithPlan(s, listPlanAttrTypes)
	return nil
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

func (m *serverDataSourceModel) fromAPI(s *vpsorg.Server) diag.Diagnostics {
	m.fill(s)
	m.ResourceUsage = resourceUsageValue(s.ResourceUsage)
	return nil
}

// fromAPI maps the API server into the resource model. A status the provider
// does not know is a warning, never a failed refresh: the power state then
// keeps its prior value.
func (m *serverResourceModel) fromAPI(s *vpsorg.Server) diag.Diagnostics {
	var diags diag.Diagnostics
	m.fill(s)
	m.PlanID = types.Int64Value(s.Plan.ID)
	m.OSID = types.Int64Value(s.OS.ID)
	if m.BackupsEnabled.IsUnknown() {
		m.BackupsEnabled = types.BoolNull()
	}
	// An imported server has no value yet: take the default, so that the
	// configuration's default plans no update.
	if m.ShutdownBeforeDelete.IsNull() || m.ShutdownBeforeDelete.IsUnknown() {
		m.ShutdownBeforeDelete = types.BoolValue(false)
	}
	if power, ok := powerStateOf(s.Status); ok {
		m.PowerState = types.StringValue(power)
	} else {
		diags.AddWarning("Unknown server status",
			fmt.Sprintf("Server %d reports status %q, which this provider version does not know. "+
				"Its power state is left as it was; the rest of its state was refreshed.", s.ID, s.Status))
		if m.PowerState.IsUnknown() {
			m.PowerState = types.StringNull()
		}
	}
	return diags
}

// createRequest builds the POST body from the plan.
func (m *serverResourceModel) createRequest() vpsorg.CreateServerRequest {
	return vpsorg.CreateServerRequest{
		Name:           m.Name.ValueString(),
		PlanID:         m.PlanID.ValueInt64(),
		OSID:           m.OSID.ValueInt64(),
		Location:       m.Location.ValueString(),
		Hostname:       knownString(m.Hostname),
		SSHKeyID:       knownInt64(m.SSHKeyID),
		BackupsEnabled: knownBool(m.BackupsEnabled),
	}
}

// updateRequest builds the PATCH body: only the settings the plan changes.
func (m *serverResourceModel) updateRequest(state *serverResourceModel) vpsorg.UpdateServerRequest {
	var req vpsorg.UpdateServerRequest
	if !m.Name.Equal(state.Name) {
		req.Name = m.Name.ValueStringPointer()
	}
	if !m.Hostname.Equal(state.Hostname) {
		req.Hostname = knownString(m.Hostname)
	}
	if !m.BackupsEnabled.Equal(state.BackupsEnabled) {
		req.BackupsEnabled = knownBool(m.BackupsEnabled)
	}
	return req
}

// known reports whether v has a value: neither null nor unknown.
func known(v attr.Value) bool { return !v.IsNull() && !v.IsUnknown() }

// knownString and its kin give nil for null and unknown values alike: an
// unknown value must never reach the API as a zero value.
func knownString(v types.String) *string {
	if v.IsNull() || v.IsUnknown() {
		return nil
	}
	return v.ValueStringPointer()
}

func knownInt64(v types.Int64) *int64 {
	if v.IsNull() || v.IsUnknown() {
		return nil
	}
	return v.ValueInt64Pointer()
}

func knownBool(v types.Bool) *bool {
	if v.IsNull() || v.IsUnknown() {
		return nil
	}
	return v.ValueBoolPointer()
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
