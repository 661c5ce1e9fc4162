package provider

import (
	"encoding/json"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/vpsorg/terraform-provider-vpsorg/internal/vpsorg"
)

func TestUpdateRequest_sendsOnlyWhatChanged(t *testing.T) {
	state := serverResourceModel{}
	state.Name = types.StringValue("web")
	state.Hostname = types.StringValue("web.example.com")
	state.BackupsEnabled = types.BoolValue(false)

	cases := []struct {
		name   string
		change func(*serverResourceModel)
		want   string
	}{
		{"nothing", func(*serverResourceModel) {}, `{}`},
		{"name", func(m *serverResourceModel) { m.Name = types.StringValue("web-2") }, `{"name":"web-2"}`},
		{"hostname", func(m *serverResourceModel) { m.Hostname = types.StringValue("w.example.org") }, `{"hostname":"w.example.org"}`},
		{"backups", func(m *serverResourceModel) { m.BackupsEnabled = types.BoolValue(true) }, `{"backups_enabled":true}`},
		{"unknown hostname is not sent", func(m *serverResourceModel) { m.Hostname = types.StringUnknown() }, `{}`},
		{"name and backups", func(m *serverResourceModel) {
			m.Name = types.StringValue("db")
			m.BackupsEnabled = types.BoolValue(true)
		}, `{"name":"db","backups_enabled":true}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			plan := state
			tc.change(&plan)
			got, _ := json.Marshal(plan.updateRequest(&state))
			if string(got) != tc.want {
				t.Errorf("PATCH body = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestCreateRequest_neverSendsUnknownsAsZeroValues(t *testing.T) {
	var m serverResourceModel
	m.Name = types.StringValue("web")
	m.PlanID = types.Int64Value(1)
	m.OSID = types.Int64Value(5)
	m.Location = types.StringValue("us-west")
	m.Hostname = types.StringUnknown()
	m.SSHKeyID = types.Int64Null()
	m.BackupsEnabled = types.BoolValue(false)
	got, _ := json.Marshal(m.createRequest())
	want := `{"name":"web","plan_id":1,"os_id":5,"location":"us-west","backups_enabled":false}`
	if string(got) != want {
		t.Errorf("POST body = %s, want %s", got, want)
	}
}

func TestPowerStateOf_transientStatusesCountAsWhereTheyLead(t *testing.T) {
	cases := map[string]string{
		vpsorg.StatusActive: powerRunning, vpsorg.StatusStarting: powerRunning, vpsorg.StatusRebooting: powerRunning,
		vpsorg.StatusProvisioning: powerRunning,
		vpsorg.StatusStopped:      powerStopped, vpsorg.StatusStopping: powerStopped, vpsorg.StatusSuspended: powerStopped,
		"error": "", "migrating": "",
	}
	for status, want := range cases {
		got, ok := powerStateOf(status)
		if got != want || ok != (want != "") {
			t.Errorf("powerStateOf(%q) = %q, %v; want %q", status, got, ok, want)
		}
	}
}

func TestFill_unknownStatusWarnsAndKeepsPowerState(t *testing.T) {
	var m serverResourceModel
	m.PowerState = types.StringValue(powerStopped)
	diags := m.fromAPI(&vpsorg.Server{ID: 7, Name: "x", Status: "migrating", Location: "us-west"})
	if diags.HasError() || diags.WarningsCount() != 1 {
		t.Fatalf("want exactly one warning, got %v", diags)
	}
	if m.PowerState.ValueString() != powerStopped || m.Status.ValueString() != "migrating" || m.Name.ValueString() != "x" {
		t.Errorf("state after an unknown status: power %s, status %s, name %s", m.PowerState, m.Status, m.Name)
	}
}

func TestPowerChange(t *testing.T) {
	str := types.StringValue
	cases := []struct {
		name                      string
		planPower, statePower     types.String
		planTrigger, stateTrigger types.String
		wantPower                 string
		wantReboot                bool
	}{
		{"unchanged", str("running"), str("running"), types.StringNull(), types.StringNull(), "", false},
		{"stop", str("stopped"), str("running"), types.StringNull(), types.StringNull(), "stopped", false},
		{"trigger changes", str("running"), str("running"), str("b"), str("a"), "", true},
		{"trigger set from null records only", str("running"), str("running"), str("a"), types.StringNull(), "", false},
		{"trigger removed", str("running"), str("running"), types.StringNull(), str("a"), "", false},
		{"unknown power is not a change", types.StringUnknown(), str("running"), types.StringNull(), types.StringNull(), "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var plan, state serverResourceModel
			plan.PowerState, state.PowerState = tc.planPower, tc.statePower
			plan.RebootTrigger, state.RebootTrigger = tc.planTrigger, tc.stateTrigger
			power, reboot := plan.powerChange(&state)
			if power != tc.wantPower || reboot != tc.wantReboot {
				t.Errorf("powerChange = %q, %v; want %q, %v", power, reboot, tc.wantPower, tc.wantReboot)
			}
		})
	}
}
