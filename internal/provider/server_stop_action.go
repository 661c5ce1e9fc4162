package provider

import "github.com/hashicorp/terraform-plugin-framework/action"

// NewServerStopAction is the vpsorg_server_stop action's constructor.
func NewServerStopAction() action.Action {
	return &serverPowerAction{
		name:  "server_stop",
		verb:  "stop",
		power: stopAction,
		description: "Stops a running server and waits until it is `stopped` (Terraform 1.14 and later). " +
			"The stop request is sent once, never repeated; progress is reported while the action waits. " +
			"A server that is already stopped is left as it is. The API refuses to stop a suspended server " +
			"(`Server is suspended.`), and the action fails with its message.\n\n" +
			"On a `vpsorg_server` whose `power_state` is set, the next plan brings the server back to that " +
			"state: stopping a server configured with `power_state = \"running\"` makes the next apply start " +
			"it again. To change power for good, change `power_state`; leave `power_state` unset on servers " +
			"whose power these actions manage.",
	}
}
