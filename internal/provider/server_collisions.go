package provider

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/vpsorg/terraform-provider-vpsorg/internal/vpsorg"
)

// Never a second server by accident: an apply killed while its servers
// provision (a CI runner reclaimed, an OOM kill) saves none of them, and the
// next plan would quietly create each again. So every planned create looks
// for servers that already exist under its name in its location, and the
// plan warns, naming each with the import that adopts it. The look is one
// list of the account that the whole plan shares (SharedServerList), not a
// request per server. A server is never adopted on its name alone: the
// warning leaves the choice to the user.
//
// Not a collision: a server a refresh in this process read from state
// (some resource's already, the tainted one this plan replaces among
// them), one this process created or deleted. A replacement planned for a
// changed attribute comes as a create too, but Terraform shows only the
// errors of that second look, and the server itself was refreshed.

// collisionListAge is how long one list serves the creates of a provider
// process: a plan's, and an apply's, whose re-plans of each resource come
// throughout its walk (servers it creates itself are set aside by
// CreatedHere, so an old list misses only servers made elsewhere since).
const collisionListAge = 30 * time.Minute

// refreshed holds, per client (one per provider process), the ids of the
// servers a refresh in this process read from state.
var refreshed = struct {
	sync.Mutex
	ids map[*vpsorg.Client]map[int64]bool
}{ids: map[*vpsorg.Client]map[int64]bool{}}

// noteRefreshed records that a refresh read server id from state.
func noteRefreshed(c *vpsorg.Client, id int64) {
	refreshed.Lock()
	defer refreshed.Unlock()
	if refreshed.ids[c] == nil {
		refreshed.ids[c] = map[int64]bool{}
	}
	refreshed.ids[c][id] = true
}

func wasRefreshed(c *vpsorg.Client, id int64) bool {
	refreshed.Lock()
	defer refreshed.Unlock()
	return refreshed.ids[c][id]
}

// planNoSecondServer is ModifyPlan's part in never making a second server:
// a create warns of the servers that already exist under its name; a
// placeholder is never planned without a refresh (server_unresolved.go).
func (r *serverResource) planNoSecondServer(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	switch {
	case req.Plan.Raw.IsNull():
	case req.State.Raw.IsNull():
		r.warnCollisions(ctx, req, resp)
	default:
		refusePlaceholderPlan(ctx, req, resp)
	}
}

// warnCollisions warns about the servers that already exist under the name
// and in the location of a planned create.
func (r *serverResource) warnCollisions(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if r.client == nil || r.offline {
		return
	}
	var name, location types.String
	resp.Diagnostics.Append(req.Plan.GetAttribute(ctx, path.Root("name"), &name)...)
	resp.Diagnostics.Append(req.Plan.GetAttribute(ctx, path.Root("location"), &location)...)
	if resp.Diagnostics.HasError() || !known(name) {
		return
	}
	servers, err := r.client.SharedServerList(ctx, collisionListAge)
	if err != nil {
		tflog.Warn(ctx, "could not look for servers that already exist under a planned name", map[string]any{"name": name.ValueString(), "error": err.Error()})
		return
	}
	twins := collisions(servers, name.ValueString(), location, r.client)
	if len(twins) == 0 {
		return
	}
	resp.Diagnostics.AddAttributeWarning(path.Root("name"),
		fmt.Sprintf("A server named %q already exists", name.ValueString()),
		collisionAdvice(name.ValueString(), twins, r.client.APITime(time.Now())))
}

// collisions are the servers named name (in location, when it is known)
// that no refresh or create of this process accounts for.
func collisions(servers []vpsorg.Server, name string, location types.String, c *vpsorg.Client) []vpsorg.Server {
	var twins []vpsorg.Server
	accounted := accountedFor(c)
	for _, s := range servers {
		if s.Name != name || known(location) && s.Location != location.ValueString() || accounted(s.ID) {
			continue
		}
		twins = append(twins, s)
	}
	sort.Slice(twins, func(i, j int) bool { return twins[i].ID < twins[j].ID })
	return twins
}

// collisionAdvice says what the servers are and how to adopt one; now is
// on the API's clock.
func collisionAdvice(name string, twins []vpsorg.Server, now time.Time) string {
	var b strings.Builder
	fmt.Fprintf(&b, "This plan creates a server named %q, and the API already lists %s under that name:\n", name, plural(len(twins), "server"))
	for _, s := range twins {
		fmt.Fprintf(&b, "  - server %d in %s, status %q, %s\n", s.ID, s.Location, s.Status, serverAge(s, now))
	}
	b.WriteString("\nIf one of them is this resource's (an earlier apply made it and was killed before it could save it), " +
		"adopt it instead of creating another: add an import block, with this resource's address as Terraform shows it " +
		"above (\"with vpsorg_server....\"), and plan again:\n")
	for _, s := range twins {
		fmt.Fprintf(&b, "\n  import {\n    to = vpsorg_server.NAME # this resource's address\n    id = \"%d\"\n  }\n", s.ID)
	}
	fmt.Fprintf(&b, "\nor run terraform import with that address and the id (terraform import 'vpsorg_server.NAME' %d). ", twins[0].ID)
	b.WriteString("If it is managed elsewhere (another workspace, another resource of this configuration), leave it: " +
		"applying this plan then creates a second server of the same name, as the configuration asks. " +
		"The provider never adopts a server on its name alone.")
	return b.String()
}

// serverAge is how long ago s was created, by the API's clock.
func serverAge(s vpsorg.Server, now time.Time) string {
	created, err := time.Parse(time.RFC3339, s.CreatedAt)
	if err != nil {
		return fmt.Sprintf("created %q", s.CreatedAt)
	}
	return fmt.Sprintf("created %s (%s ago)", s.CreatedAt, max(now.Sub(created), 0).Round(time.Second))
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
