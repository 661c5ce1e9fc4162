package provider

import "github.com/hashicorp/terraform-plugin-framework/action"

// NewServerStartAction is the vpsorg_server_start action's constructor.
func NewServerStartAction() action.Action {
	return &serverPowerAction{
		name:  "server_start",
		verb:  "start",
		power: startAction,
		description: "Starts a stopped server and waits until it is `active` (Terraform 1.14 and later). " +
			"The start request is sent once, never repeated; progress is reported while the action waits. " +
			"A server that is already running is left as it is. The API refuses to start a suspended server " +
			"(`Server is suspended.`), and the action fails with its message.\n\n" +
			"On a `vpsorg_server` whose `power_state` is set, the next plan brings the server back to that " +
			"state: starting a server configured with `power_state = \"stopped\"` makes the next apply stop it " +
			"again. To change power for good, change `power_state`.",
	}
}
