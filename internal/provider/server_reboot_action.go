package provider

import "github.com/hashicorp/terraform-plugin-framework/action"

// NewServerRebootAction is the vpsorg_server_reboot action's constructor.
func NewServerRebootAction() action.Action {
	return &serverPowerAction{
		name:  "server_reboot",
		verb:  "reboot",
		power: rebootAction,
		description: "Reboots a running server and waits until it is `active` again (Terraform 1.14 and later). " +
			"The reboot request is sent once, never repeated; progress is reported while the action waits. " +
			"The API refuses to reboot a server that is not running (`Server is not running.`) or is suspended " +
			"(`Server is suspended.`), and the action fails with its message.\n\n" +
			"Use it from a resource's `lifecycle { action_trigger { ... } }`, for example to reboot after a " +
			"configuration file changes, or by hand with `terraform apply -invoke=action.vpsorg_server_reboot.<name>`. " +
			"`reboot_trigger` on `vpsorg_server` does the same as part of an update of the server itself; use one " +
			"or the other for a given cause, or the server reboots twice.",
	}
}
