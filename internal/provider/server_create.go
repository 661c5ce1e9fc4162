package provider

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/vpsorg/terraform-provider-vpsorg/internal/vpsorg"
)

// clockSkew is how much earlier than our own clock a server's created_at may
// be and still count as made by our request, when a create's answer is lost.
const clockSkew = 5 * time.Second

// createServer sends the POST. When its answer is lost after the API may
// have acted (a 5xx, a dropped connection, an interrupt), it never sends the
// POST again: it looks for the server the request made and adopts it.
func createServer(ctx context.Context, c *vpsorg.Client, req vpsorg.CreateServerRequest) (*vpsorg.Server, error) {
	began := time.Now()
	server, err := c.CreateServer(ctx, req)
	if err == nil || !vpsorg.MayHaveActed(err) {
		return server, err
	}
	tflog.Warn(ctx, "the answer to a create was lost; looking for the server it may have made", map[string]any{"name": req.Name, "error": err.Error()})

	// An interrupt must not stop us from finding a server that may exist.
	lookup, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	servers, listErr := c.ListServers(lookup, vpsorg.ListServersOptions{Location: req.Location})
	if listErr != nil {
		return nil, fmt.Errorf("%w; looking for the server it may have created also failed: %w", err, listErr)
	}
	made, pickErr := pickCreated(servers, req, began, c.RecentlyDeleted)
	if pickErr != nil {
		return nil, fmt.Errorf("%w; %w", err, pickErr)
	}
	tflog.Info(ctx, "adopted the server the lost create made", map[string]any{"id": made.ID})
	return made, nil
}

// pickCreated finds the one server a create made, among those listed after
// its answer was lost: same name, plan, OS and location, created after the
// request began (less clockSkew, as created_at has whole seconds and clocks
// differ). Older servers of the same name are someone else's, and a server
// this process deleted may still be listed for a while (the API is
// eventually consistent) but is never the one a create made: a replace
// deletes the old server, then creates one of the same name.
func pickCreated(servers []vpsorg.Server, req vpsorg.CreateServerRequest, began time.Time, deleted func(id int64) bool) (*vpsorg.Server, error) {
	var made []vpsorg.Server
	for _, s := range servers {
		if s.Name != req.Name || s.Plan.ID != req.PlanID || s.OS.ID != req.OSID || s.Location != req.Location || deleted(s.ID) {
			continue
		}
		if created, err := time.Parse(time.RFC3339, s.CreatedAt); err == nil && !created.Before(began.Add(-clockSkew)) {
			made = append(made, s)
		}
	}
	if len(made) > 1 {
		// Several within the skew: if exactly one was created in the
		// request's own second or later, the others are older.
		var since []vpsorg.Server
		for _, s := range made {
			if created, _ := time.Parse(time.RFC3339, s.CreatedAt); !created.Before(began.Truncate(time.Second)) {
				since = append(since, s)
			}
		}
		if len(since) == 1 {
			made = since
		}
	}
	switch len(made) {
	case 1:
		return &made[0], nil
	case 0:
		return nil, fmt.Errorf("no server named %q was created since the request began, so none was made", req.Name)
	}
	return nil, fmt.Errorf("%d servers named %q were created since the request began, and which one this "+
		"request made cannot be told. Import the right one and delete the others:\n%s", len(made), req.Name, importCommands(made))
}

func importCommands(servers []vpsorg.Server) string {
	sort.Slice(servers, func(i, j int) bool { return servers[i].ID < servers[j].ID })
	lines := make([]string, 0, len(servers))
	for _, s := range servers {
		lines = append(lines, fmt.Sprintf("  server %d (created %s): terraform import <address> %d", s.ID, s.CreatedAt, s.ID))
	}
	return strings.Join(lines, "\n")
}
