package provider

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/vpsorg/terraform-provider-vpsorg/internal/emulator"
)

// shutdownConfig is a server with shutdown_before_delete and extra lines.
func shutdownConfig(env *testEnv, name, extra string) string {
	return env.config(env.serverConfig(name, catalog.plans[0], "  shutdown_before_delete = true\n"+extra))
}

// destroyedAfter runs checkDestroyed; in process it then checks the stop
// POSTs seen and, when a stop was sent, that the server's last stop came
// before its DELETE.
func destroyedAfter(env *testEnv, stops int) func(*terraform.State) error {
	return func(s *terraform.State) error {
		if err := env.checkDestroyed(s); err != nil {
			return err
		}
		return env.onEmulator("how many stops were sent before the DELETE, and that they came before it (the emulator's request log)", func(emu *emulator.Emulator) error {
			if got := env.sent(requests{route: routeStop}); got != stops {
				return fmt.Errorf("stop was sent %d times, want %d", got, stops)
			}
			lastStop, deleted := -1, -1
			for i, r := range emu.Requests() {
				switch {
				case r.Method == "POST" && r.Route == emulator.RouteStop:
					lastStop = i
				case r.Method == "DELETE":
					deleted = i
				}
			}
			if deleted < 0 {
				return fmt.Errorf("no DELETE was sent")
			}
			if stops > 0 && lastStop > deleted {
				return fmt.Errorf("the stop (request %d) came after the DELETE (request %d)", lastStop, deleted)
			}
			return nil
		})
	}
}

// historyOf returns the statuses server id went through, in order; in
// process only.
func historyOf(env *testEnv, id int64) []string {
	var out []string
	for _, c := range env.emulator.History(id) {
		out = append(out, c.Status)
	}
	return out
}

func TestAccServerResource_shutdownBeforeDeleteStopsThenDeletes(t *testing.T) {
	env := newTestEnv(t, withLag)
	var id int64
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		// Through the API: the destroy succeeded and the server is gone. The
		// stop's order and end are seen in process only.
		CheckDestroy: func(s *terraform.State) error {
			if err := destroyedAfter(env, 1)(s); err != nil {
				return err
			}
			return env.onEmulator("that the stop finished (stopping, then stopped) before the delete (the emulator's History)", func(*emulator.Emulator) error {
				if h := strings.Join(historyOf(env, id), ","); !strings.HasSuffix(h, "active,stopping,stopped,deleted") {
					return fmt.Errorf("history %s, want a finished stop before the delete", h)
				}
				return nil
			})
		},
		Steps: []resource.TestStep{{
			Config: shutdownConfig(env, "graceful", ""),
			Check: func(s *terraform.State) (err error) {
				id, err = serverID(s)
				return err
			},
		}},
	})
}

func TestAccServerResource_shutdownBeforeDeleteSendsNoStopToAServerNotRunning(t *testing.T) {
	t.Run("stopped", func(t *testing.T) {
		env := newTestEnv(t)
		resource.ParallelTest(t, resource.TestCase{
			ProtoV6ProviderFactories: env.factories(),
			CheckDestroy:             destroyedAfter(env, 1), // the one that stopped it at create
			Steps: []resource.TestStep{{
				Config: shutdownConfig(env, "already-stopped", `  power_state = "stopped"`),
				Check:  env.expectStatus("already-stopped", "stopped"),
			}},
		})
	})
	t.Run("suspended", func(t *testing.T) {
		env := newTestEnv(t)
		emu := env.requireEmulator("needs the emulator's SetStatus hook: the API cannot suspend a server")
		resource.ParallelTest(t, resource.TestCase{
			ProtoV6ProviderFactories: env.factories(),
			CheckDestroy:             destroyedAfter(env, 0),
			Steps: []resource.TestStep{
				{Config: shutdownConfig(env, "suspended", "")},
				{
					PreConfig: func() { emu.SetStatus(env.serverNamed("suspended").ID, emulator.StatusSuspended) },
					Config:    shutdownConfig(env, "suspended", ""),
				},
			},
		})
	})
}

// A stop that does not finish within half the delete timeout: a warning
// (TestShutDownBeforeDelete_warnsWhenTheStopDoesNotFinish), then the delete.
func TestAccServerResource_shutdownBeforeDeleteDeletesWhenTheStopNeverFinishes(t *testing.T) {
	env := newTestEnv(t)
	emu := env.requireEmulator("needs the emulator's SetTransitionTime hook: a stop that never finishes")
	config := shutdownConfig(env, "slow-stop", "  timeouts {\n    delete = \"4s\"\n  }")
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		CheckDestroy:             destroyedAfter(env, 1),
		Steps: []resource.TestStep{
			{Config: config},
			{PreConfig: func() { emu.SetTransitionTime(time.Hour) }, Config: config},
		},
	})
}

// The stop's answer is lost after the API acted: it is not sent again, the
// provider sees the stop through and then deletes.
func TestAccServerResource_shutdownBeforeDeleteNeverResendsALostStop(t *testing.T) {
	env := newTestEnv(t)
	emu := env.requireEmulator("needs the emulator's InjectFault hook: the API cannot be made to lose a stop's answer")
	var id int64
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		CheckDestroy: func(s *terraform.State) error {
			if err := destroyedAfter(env, 1)(s); err != nil {
				return err
			}
			if h := strings.Join(historyOf(env, id), ","); !strings.HasSuffix(h, "stopping,stopped,deleted") {
				return fmt.Errorf("history %s, want a finished stop before the delete", h)
			}
			return nil
		},
		Steps: []resource.TestStep{
			{
				Config: shutdownConfig(env, "lost-stop", ""),
				Check: func(s *terraform.State) (err error) {
					id, err = serverID(s)
					return err
				},
			},
			{
				PreConfig: func() {
					emu.InjectFault(emulator.Fault{Method: "POST", Route: emulator.RouteStop, Count: 1, Status: 500, AfterAction: true})
				},
				Config: shutdownConfig(env, "lost-stop", ""),
			},
		},
	})
}

func TestShutDownBeforeDelete_warnsWhenTheStopDoesNotFinish(t *testing.T) {
	env := newTestEnv(t)
	emu := env.requireEmulator("needs the emulator's SetTransitionTime hook: a stop that never finishes")
	srv, err := emu.AddServer("acc", emulator.ServerSpec{Name: "slow", PlanID: 1, OSID: 5, Location: "us-west", Status: "active"})
	if err != nil {
		t.Fatal(err)
	}
	emu.SetTransitionTime(time.Hour)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()

	var diags diag.Diagnostics
	shutDownBeforeDelete(ctx, env.client, srv.ID, &diags)

	if diags.HasError() || len(diags.Warnings()) != 1 {
		t.Fatalf("want exactly one warning, got %v", diags)
	}
	if w := diags.Warnings()[0]; !strings.Contains(w.Summary(), "not shut down gracefully") || !strings.Contains(w.Detail(), "deleted anyway") {
		t.Errorf("warning %q: %q", w.Summary(), w.Detail())
	}
	if ctx.Err() != nil {
		t.Error("the stop used the whole delete deadline; it may use only half")
	}
	if n := env.sent(requests{route: routeStop}); n != 1 {
		t.Errorf("stop sent %d times, want 1", n)
	}
}
