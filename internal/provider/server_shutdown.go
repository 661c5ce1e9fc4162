package provider

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/vpsorg/terraform-provider-vpsorg/internal/vpsorg"
)

// shutDownBeforeDelete stops a running server gracefully before it is
// deleted (shutdown_before_delete), so that what runs on it (a database)
// can close cleanly. It spends at most half of what is left of the delete's
// deadline, so that the DELETE always has time. A stop that fails or does
// not finish in time is a warning, not an error: the user asked for the
// server to be deleted, and it will be. A server that is not running
// (stopped, suspended) gets no stop.
func shutDownBeforeDelete(ctx context.Context, c *vpsorg.Client, id int64, diags *diag.Diagnostics) {
	if deadline, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, time.Now().Add(time.Until(deadline)/2))
		defer cancel()
	}
	server, err := c.GetServer(ctx, id)
	if errors.Is(err, vpsorg.ErrNotFound) {
		return // nothing to stop; the DELETE will say it is gone
	}
	if err == nil {
		server, err = settle(ctx, c, server)
	}
	if err == nil {
		if server.Status != vpsorg.StatusActive {
			tflog.Info(ctx, "server is not running; no stop before delete", map[string]any{"id": id, "status": server.Status})
			return
		}
		tflog.Info(ctx, "stopping the server gracefully before deleting it", map[string]any{"id": id})
		_, err = stopAction.runFrom(ctx, c, server)
	}
	if err != nil {
		diags.AddWarning(fmt.Sprintf("Server %d was not shut down gracefully before deletion", id),
			fmt.Sprintf("shutdown_before_delete is set, but the graceful stop did not finish: %s.\n\n"+
				"The server is deleted anyway. To give the stop more time, raise the delete value in the timeouts block: "+
				"the stop may use half of it.", err))
	}
}
