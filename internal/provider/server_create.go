package provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/vpsorg/terraform-provider-vpsorg/internal/vpsorg"
)

// clockSkew is how much earlier than the request, on the API's clock, a
// server's created_at may be and still count as made by our request when a
// create's answer is lost: created_at has whole seconds, and the learned
// clock offset is an estimate.
const clockSkew = 5 * time.Second

// lateWrite is how long after a create's answer was lost the API may still
// write the server it made (a request that outlived the connection).
const lateWrite = 30 * time.Second

// The search for the server a lost create made. An eventually consistent
// API may list a new server only seconds after its create, so one look
// proves nothing: the search looks again with backoff until the create's
// deadline, at most adoptionSearchMax after the create began and at least
// adoptionSearchMin (a create whose POST used up the deadline, or that was
// interrupted, still looks).
const (
	adoptionSearchMin = 10 * time.Second
	adoptionSearchMax = 2 * time.Minute
	adoptionPollMin   = 500 * time.Millisecond
	adoptionPollMax   = 10 * time.Second
)

// unresolvedCreate is a create whose answer was lost and whose server the
// search could not find in its time: whether it made one cannot be told.
// It is kept in the resource's private state, with a placeholder state, so
// that the next refresh looks again and never lets a plan create a second
// server behind the user's back (DESIGN.md, "A create that cannot be
// settled").
type unresolvedCreate struct {
	Name     string `json:"name"`
	PlanID   int64  `json:"plan_id"`
	OSID     int64  `json:"os_id"`
	Location string `json:"location"`
	// Began is when the create was sent, on the API's clock (RFC 3339).
	Began string `json:"began"`
	// Ended is when its answer was lost, on the API's clock (RFC 3339): the
	// server it made was created by then, so a server created later (the
	// replacement create_before_destroy makes, another pipeline's) is not
	// it. Empty in placeholders saved before it was recorded.
	Ended string `json:"ended,omitempty"`
	// Candidates are the servers that match the create when more than one
	// does, as last listed; not saved: each look lists them again.
	Candidates []vpsorg.Server `json:"-"`
}

const unresolvedCreateKey = "unresolved_create"

func (u unresolvedCreate) request() vpsorg.CreateServerRequest {
	return vpsorg.CreateServerRequest{Name: u.Name, PlanID: u.PlanID, OSID: u.OSID, Location: u.Location}
}

func (u unresolvedCreate) marshal() []byte {
	b, _ := json.Marshal(u)
	return b
}

// advice is the detail of an unresolvedCreate error: what is known, what
// to check, and how to import. The provider is never told the resource's
// address: Terraform shows it with the diagnostic ("with vpsorg_server...."),
// and the advice says how else to find it.
func (u unresolvedCreate) advice() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Whether the create of %q (plan %d, OS %d, %s, sent at %s by the API's clock) made a server cannot be told: ",
		u.Name, u.PlanID, u.OSID, u.Location, u.Began)
	if len(u.Candidates) == 0 {
		b.WriteString("its answer was lost and the API did not list such a server in time.")
	} else {
		fmt.Fprintf(&b, "its answer was lost, and the API lists %d servers that match it, created since it was sent:\n%s\n", len(u.Candidates), candidateLines(u.Candidates))
		b.WriteString("Which one it made cannot be told. Some of them may be managed by another resource of this configuration " +
			"(another instance of the same count has the same name), which the provider cannot see: look the ids up in state " +
			"(terraform state list, then terraform state show for each vpsorg_server) before importing one, and delete none of them before you know whose it is.")
	}
	fmt.Fprintf(&b, " The resource is kept in state as a placeholder (no id), so that no apply creates a second server.\n\n"+
		"ADDRESS below is this resource's address: Terraform shows it above, after \"with\"; terraform state list | grep vpsorg_server lists them all, "+
		"and terraform state show ADDRESS shows the placeholder, named %q, with no id. Check the servers named %q in %s (the VPS.org console, "+
		"GET /servers/?location=%s, or the vpsorg_servers data source), then either\n"+
		"  - one was made, and no other resource holds it: terraform state rm ADDRESS && terraform import ADDRESS ID\n"+
		"  - none was made: terraform state rm ADDRESS, then apply again.\n"+
		"Each refresh looks again, and adopts the server if exactly one such server is listed that no other resource refreshed by it holds.",
		u.Name, u.Name, u.Location, u.Location)
	return b.String()
}

// unresolvedError is createServer's error for an unresolved create.
type unresolvedError struct {
	create  error
	pending unresolvedCreate
}

func (e *unresolvedError) Error() string {
	return fmt.Sprintf("%v\n\n%s", e.create, e.pending.advice())
}

func (e *unresolvedError) Unwrap() error { return e.create }

// createServer sends the POST. When its answer is lost after the API may
// have acted (a 5xx, a dropped connection, a partial answer, an interrupt),
// it never sends the POST again: it looks for the server the request made
// and adopts it. When none shows in time it returns *unresolvedError.
func createServer(ctx context.Context, c *vpsorg.Client, req vpsorg.CreateServerRequest) (*vpsorg.Server, error) {
	began := time.Now()
	server, err := c.CreateServer(ctx, req)
	if err == nil || !vpsorg.MayHaveActed(err) {
		return server, err
	}
	ended := time.Now()
	tflog.Warn(ctx, "the answer to a create was lost; looking for the server it may have made", map[string]any{"name": req.Name, "error": err.Error()})

	// An interrupt must not stop us from finding a server that may exist.
	until := began.Add(adoptionSearchMax)
	if deadline, ok := ctx.Deadline(); ok && deadline.Before(until) {
		until = deadline
	}
	until = maxTime(until, time.Now().Add(adoptionSearchMin))
	lookup, cancel := context.WithDeadline(context.WithoutCancel(ctx), until)
	defer cancel()
	made, findErr := findCreated(lookup, c, req, began, ended)
	switch {
	case findErr == nil:
		tflog.Info(ctx, "adopted the server the lost create made", map[string]any{"id": made.ID})
		return made, nil
	case errors.Is(findErr, errNoneListed), errors.As(findErr, new(*ambiguousCreate)):
		pending := unresolvedCreate{
			Name: req.Name, PlanID: req.PlanID, OSID: req.OSID, Location: req.Location,
			Began: c.APITime(began).UTC().Format(time.RFC3339),
			Ended: c.APITime(ended).UTC().Format(time.RFC3339),
		}
		cause := findErr
		var ambiguous *ambiguousCreate
		if errors.As(findErr, &ambiguous) {
			pending.Candidates = ambiguous.servers // the advice lists them
			cause = fmt.Errorf("%d servers match it", len(ambiguous.servers))
		}
		return nil, &unresolvedError{create: fmt.Errorf("%w; %w", err, cause), pending: pending}
	}
	return nil, fmt.Errorf("%w; looking for the server it may have created: %w", err, findErr)
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// errNoneListed is a search that ended without seeing the server.
var errNoneListed = errors.New("no such server was listed")

// findCreated lists servers until the one the create begun at began made
// shows, with backoff, until ctx ends. Several candidates end the search
// once adoptionSearchMin has passed since began: until then another create
// of this process may still be receiving its answer, which tells its
// server apart (Client.CreatedHere). A list that fails is tried again like
// one that shows nothing: either way the question stays open, and the
// error matches errNoneListed.
func findCreated(ctx context.Context, c *vpsorg.Client, req vpsorg.CreateServerRequest, began, ended time.Time) (*vpsorg.Server, error) {
	pause := adoptionPollMin
	var listErr error
	for {
		servers, err := c.ListServers(ctx, vpsorg.ListServersOptions{Location: req.Location})
		if err == nil {
			// The list's answers have taught the client the API's clock.
			made, pickErr := pickCreated(servers, req, c.APITime(began), c.APITime(ended), accountedFor(c))
			if pickErr == nil || !errors.Is(pickErr, errNoneListed) && time.Since(began) >= adoptionSearchMin {
				return made, pickErr
			}
			if !errors.Is(pickErr, errNoneListed) {
				listErr = pickErr // what the search ends with, if it ends now
			}
		} else {
			// A list cut short by the deadline says less than the API's
			// failure before it: that stays the reason shown.
			if listErr == nil || ctx.Err() == nil {
				listErr = err
			}
			if lastingFailure(err) {
				// Waiting will not make this list answer (a redirect, a
				// refused token): the question stays open, now.
				return nil, fmt.Errorf("%w (listing servers failed: %w)", errNoneListed, listErr)
			}
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			if errors.As(listErr, new(*ambiguousCreate)) {
				return nil, listErr
			}
			if listErr != nil {
				return nil, fmt.Errorf("%w (listing servers failed too: %w)", errNoneListed, listErr)
			}
			return nil, errNoneListed
		case <-t.C:
		}
		pause = min(pause*2, adoptionPollMax)
	}
}

// lastingFailure reports whether a failed list is one that asking again
// will not cure: an answer with a 3xx or 4xx status other than 408 and 429.
func lastingFailure(err error) bool {
	var apiErr *vpsorg.APIError
	if !errors.As(err, &apiErr) {
		return false
	}
	code := apiErr.StatusCode
	return code >= 300 && code < 500 && code != http.StatusRequestTimeout && code != http.StatusTooManyRequests
}

// accountedFor reports the servers that are known not to be the one a lost
// create made: a server this process deleted may still be listed for a
// while (the API is eventually consistent; a replace deletes the old server,
// then creates one of the same name), a server another create of this
// process was answered with is that create's (count = 2 with one name),
// and a server a refresh in this process read from state is a resource's.
func accountedFor(c *vpsorg.Client) func(id int64) bool {
	return func(id int64) bool { return c.RecentlyDeleted(id) || c.CreatedHere(id) || wasRefreshed(c, id) }
}

// pickCreated finds the one server a create made, among those listed after
// its answer was lost: same name, plan, OS and location, created after the
// request began and before its answer was lost (began and ended are on the
// API's clock, widened by clockSkew, as created_at has whole seconds, and
// ended by lateWrite; a zero ended bounds nothing), and not accounted for. Older servers of the same
// name are someone else's, and so are younger ones.
func pickCreated(servers []vpsorg.Server, req vpsorg.CreateServerRequest, began, ended time.Time, accounted func(id int64) bool) (*vpsorg.Server, error) {
	var made []vpsorg.Server
	for _, s := range servers {
		if s.Name != req.Name || s.Plan.ID != req.PlanID || s.OS.ID != req.OSID || s.Location != req.Location || accounted(s.ID) {
			continue
		}
		created, err := time.Parse(time.RFC3339, s.CreatedAt)
		if err == nil && !created.Before(began.Add(-clockSkew)) && (ended.IsZero() || !created.After(ended.Add(clockSkew+lateWrite))) {
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
		return nil, fmt.Errorf("%w: no server named %q was created since the request began", errNoneListed, req.Name)
	}
	return nil, &ambiguousCreate{name: req.Name, servers: made}
}

// ambiguousCreate is a search that found several servers a lost create may
// have made.
type ambiguousCreate struct {
	name    string
	servers []vpsorg.Server
}

func (e *ambiguousCreate) Error() string {
	return fmt.Sprintf("%d servers named %q were created since the request began, and which one it made cannot be told:\n%s",
		len(e.servers), e.name, candidateLines(e.servers))
}

// candidateLines lists servers by id: id, status and creation time.
func candidateLines(servers []vpsorg.Server) string {
	sorted := slices.Clone(servers)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].ID < sorted[j].ID })
	lines := make([]string, 0, len(sorted))
	for _, s := range sorted {
		lines = append(lines, fmt.Sprintf("  - server %d, status %q, created %s", s.ID, s.Status, s.CreatedAt))
	}
	return strings.Join(lines, "\n")
}
