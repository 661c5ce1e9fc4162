package provider

import (
	"context"
	"fmt"
	"regexp"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
)

var (
	nameRegexp     = regexp.MustCompile(`^[A-Za-z0-9-]+$`)
	hostnameRegexp = regexp.MustCompile(`^(?i:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(?:\.(?i:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?))+$`)
)

// serverResourceSchema is the vpsorg_server schema: the attributes a user
// configures are described here, the ones the API reports in
// server_fields.go.
func serverResourceSchema(ctx context.Context) schema.Schema {
	attrs := resourceComputed(pickFields(serverDetailViewFields,
		"id", "status", "ip_address", "ipv6_address", "plan", "os", "created_at", "updated_at"))

	attrs["name"] = schema.StringAttribute{
		MarkdownDescription: "The server's name: 1 to 64 letters, digits and hyphens. Changes in place.",
		Required:            true,
		Validators: []validator.String{
			stringvalidator.LengthBetween(1, 64),
			stringvalidator.RegexMatches(nameRegexp, "must contain only letters, digits and hyphens"),
		},
	}
	attrs["plan_id"] = schema.Int64Attribute{
		MarkdownDescription: "Id of the VPS plan (size). The API cannot change it: a change replaces the server. " +
			"The API documents plans `1` (Standard VPS: 2 vCPUs, 4096 MB, 80 GB) and `2` (Performance VPS: 4 vCPUs, " +
			"8192 MB, 160 GB) and has no endpoint that lists plans; any other id is the API's to accept or refuse, " +
			"and ids that only the emulator knows may not exist on the real API.",
		Required:      true,
		Validators:    []validator.Int64{int64validator.AtLeast(1)},
		PlanModifiers: []planmodifier.Int64{int64planmodifier.RequiresReplace()},
	}
	attrs["os_id"] = schema.Int64Attribute{
		MarkdownDescription: "Id of the operating system image. The API cannot change it: a change replaces the server. " +
			"The API documents `3` (Debian 12) and `5` (Ubuntu 22.04 LTS) and has no endpoint that lists images; " +
			"ids that only the emulator knows may not exist on the real API.",
		Required:      true,
		Validators:    []validator.Int64{int64validator.AtLeast(1)},
		PlanModifiers: []planmodifier.Int64{int64planmodifier.RequiresReplace()},
	}
	attrs["location"] = schema.StringAttribute{
		MarkdownDescription: "Data-center location code. The API documents `us-west` and `us-east` and has no " +
			"endpoint that lists locations; codes that only the emulator knows may not exist on the real API. " +
			"The API cannot change it: a change replaces the server.",
		Required:      true,
		Validators:    []validator.String{stringvalidator.LengthAtLeast(1)},
		PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
	}
	attrs["ssh_key_id"] = schema.Int64Attribute{
		MarkdownDescription: "Id of an SSH key to install at creation. The API installs a key only when it creates " +
			"a server and does not report it back, so it is kept as configured. Changing it replaces the server, " +
			"except when it is set on an imported server that had none recorded: then it is only recorded, the key is " +
			"not installed, and the plan warns so (replace the server, for example with `terraform apply -replace`, " +
			"to install it).",
		Optional:      true,
		Validators:    []validator.Int64{int64validator.AtLeast(1)},
		PlanModifiers: []planmodifier.Int64{sshKeyReplaces},
	}
	attrs["hostname"] = schema.StringAttribute{
		MarkdownDescription: "Fully qualified domain name, such as `web01.example.com`. Changes in place. " +
			"When unset, the value the API reports is kept.",
		Optional: true,
		Computed: true,
		Validators: []validator.String{
			stringvalidator.LengthBetween(3, 253),
			stringvalidator.RegexMatches(hostnameRegexp, "must be a fully qualified domain name such as web01.example.com: "+
				"two or more dot-separated labels of letters, digits and hyphens, no label starting or ending with a hyphen"),
		},
		PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
	}
	attrs["backups_enabled"] = schema.BoolAttribute{
		MarkdownDescription: "Whether automatic backups are enabled. Defaults to `false`. Changes in place.",
		Optional:            true,
		Computed:            true,
		Default:             booldefault.StaticBool(false),
	}
	attrs["power_state"] = schema.StringAttribute{
		MarkdownDescription: "Desired power state: `running` or `stopped`. When set, Terraform starts or " +
			"stops the server to match. When unset, power is not managed: Terraform never switches the " +
			"server on or off, and the attribute reports where the server's status leads " +
			"(`provisioning`, `starting` and `rebooting` count as `running`; `stopping` and `suspended` as `stopped`).",
		Optional:   true,
		Computed:   true,
		Validators: []validator.String{stringvalidator.OneOf(powerRunning, powerStopped)},
		// Null after an import in a status the provider does not map: the
		// apply's read may then find one, so null is not carried into a plan.
		PlanModifiers: []planmodifier.String{stringplanmodifier.UseNonNullStateForUnknown()},
	}
	attrs["reboot_trigger"] = schema.StringAttribute{
		MarkdownDescription: "Any string; when it changes from one non-null value to another while the " +
			"server is to stay running, Terraform reboots the server and waits until it is running again. " +
			"For example `reboot_trigger = sha1(local.app_config)`. Setting it where it was null (a new or " +
			"imported server) only records the value: adopting a server never restarts it.",
		Optional: true,
	}
	attrs["shutdown_before_delete"] = schema.BoolAttribute{
		MarkdownDescription: "When `true`, destroying a running server first stops it gracefully (the API's `stop`, " +
			"an ACPI shutdown) and waits until it is `stopped`, so that databases and other services close cleanly; " +
			"then it is deleted. The stop may use half of the delete timeout; if it does not finish in that time, " +
			"Terraform warns and deletes the server anyway. A stopped or suspended server gets no stop. " +
			"Defaults to `false`: the server is deleted at once, as by pulling the plug.",
		Optional: true,
		Computed: true,
		Default:  booldefault.StaticBool(false),
	}
	timeoutsBlock := resourceTimeoutsBlock(ctx, timeouts.Opts{
		Create:            true,
		CreateDescription: "How long to wait for a new server to be provisioned (and stopped, if asked). Default `15m`.",
		Update:            true,
		UpdateDescription: "How long an update may take, power changes and reboots included. Default `10m`.",
		Delete:            true,
		DeleteDescription: "How long to wait for a server to be gone, a graceful stop (`shutdown_before_delete`) included. Default `10m`.",
	})

	return schema.Schema{
		MarkdownDescription: "A VPS.org server. Terraform creates it, waits until it is provisioned, keeps its " +
			"settings and (when `power_state` is set) its power state equal to the configuration, and deletes it.",
		Attributes: attrs,
		Blocks:     map[string]schema.Block{"timeouts": timeoutsBlock},
	}
}

// sshKeyReplaces replaces the server when ssh_key_id changes, except when a
// key is set on a server this provider did not create (serverOrigin) and
// none was recorded: replacing an adopted server for a key would be a
// surprise, so the key is recorded, and the plan says it is not installed.
var sshKeyReplaces = int64planmodifier.RequiresReplaceIf(
	func(ctx context.Context, req planmodifier.Int64Request, resp *int64planmodifier.RequiresReplaceIfFuncResponse) {
		origin := serverOrigin(ctx, req.Private)
		if !req.StateValue.IsNull() || origin == originCreated {
			resp.RequiresReplace = true
			return
		}
		var id string
		resp.Diagnostics.Append(req.State.GetAttribute(ctx, path.Root("id"), &id)...)
		how := "was imported"
		if origin == "" {
			how = "is in a state written by an earlier version of this provider, which cannot tell whether it created it"
		}
		resp.Diagnostics.AddAttributeWarning(req.Path, "The SSH key is recorded, not installed",
			fmt.Sprintf("Server %s %s, so setting ssh_key_id only records the value: the API installs a key only when it "+
				"creates a server. Install the key on the server yourself, or replace the server to create it with the key "+
				"(terraform apply -replace=<address>).", id, how))
	},
	"Replaces the server when the SSH key changes, except when one is set on an imported server.",
	"Replaces the server when the SSH key changes, except when one is set on an imported server.",
)

// serverAttributePaths maps the API's field names to attribute paths, so
// that the API's field messages land on the attribute the user wrote.
var serverAttributePaths = attributePaths("name", "hostname", "plan_id", "os_id", "location", "ssh_key_id", "backups_enabled")
