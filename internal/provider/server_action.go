package provider

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/action/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/action"
	"github.com/hashicorp/terraform-plugin-framework/action/schema"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/vpsorg/terraform-provider-vpsorg/internal/vpsorg"
)

// The power actions (Terraform 1.14 and later): vpsorg_server_reboot,
// vpsorg_server_start and vpsorg_server_stop. Each is a serverPowerAction
// around one of server_power.go's powerAction values, whose run sends the
// request once and waits for the status it leads to; this file adds the
// action's schema, its timeout and progress messages, and nothing else.

var (
	_ action.Action              = (*serverPowerAction)(nil)
	_ action.ActionWithConfigure = (*serverPowerAction)(nil)
)

// defaultActionTimeout bounds an action's wait when timeouts.invoke is unset.
const defaultActionTimeout = 10 * time.Minute

// serverIDRegexp is what a server id looks like in configuration.
var serverIDRegexp = regexp.MustCompile(`^[1-9][0-9]*$`)

// progressEvery is how often a wait whose status does not change still says
// that it is waiting.
const progressEvery = 10 * time.Second

// serverPowerAction is one power action: its name after the provider's
// ("server_reboot"), the verb of its messages, the powerAction it runs and
// its documentation.
type serverPowerAction struct {
	name        string
	verb        string
	power       powerAction
	description string
	client      *vpsorg.Client
}

// serverActionModel is the configuration of every power action.
type serverActionModel struct {
	ServerID types.String   `tfsdk:"server_id"`
	Timeouts timeouts.Value `tfsdk:"timeouts"`
}

func (a *serverPowerAction) Metadata(_ context.Context, req action.MetadataRequest, resp *action.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_" + a.name
}

func (a *serverPowerAction) Schema(ctx context.Context, _ action.SchemaRequest, resp *action.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: a.description,
		Attributes: map[string]schema.Attribute{
			"server_id": schema.StringAttribute{
				MarkdownDescription: "The id of the server, such as `vpsorg_server.web.id` or `\"12345\"`.",
				Required:            true,
				Validators: []validator.String{
					stringvalidator.RegexMatches(serverIDRegexp, "must be a server id: a positive integer such as \"12345\""),
				},
			},
		},
		Blocks: map[string]schema.Block{"timeouts": actionTimeoutsBlock(ctx)},
	}
}

func (a *serverPowerAction) Configure(_ context.Context, req action.ConfigureRequest, resp *action.ConfigureResponse) {
	var diags diag.Diagnostics
	a.client, diags = configuredClient(req.ProviderData)
	resp.Diagnostics.Append(diags...)
}

func (a *serverPowerAction) Invoke(ctx context.Context, req action.InvokeRequest, resp *action.InvokeResponse) {
	var config serverActionModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
	if resp.Diagnostics.HasError() {
		return
	}
	id, ok := parseServerID(&resp.Diagnostics, path.Root("server_id"), config.ServerID.ValueString(), idFromAction)
	if !ok {
		return
	}
	ctx, cancel, ok := withTimeout(ctx, config.Timeouts.Invoke, defaultActionTimeout, &resp.Diagnostics)
	if !ok {
		return
	}
	defer cancel()

	p := newProgress(resp.SendProgress, id, a.power.to)
	p.send(fmt.Sprintf("Sending %s to server %d, then waiting until it is %s", a.verb, id, a.power.to))
	server, alreadyThere, err := a.power.run(withStatusObserver(ctx, id, p.observed), a.client, id)
	switch {
	case errors.Is(err, vpsorg.ErrNotFound):
		addServerNotFoundError(&resp.Diagnostics, path.Root("server_id"), id,
			fmt.Sprintf("The %s was not sent. %s", a.verb, findServers))
	case err != nil:
		addError(&resp.Diagnostics, fmt.Sprintf("Unable to %s server %d", a.verb, id), err, nil)
	case alreadyThere != nil:
		// Nothing happened: saying "active after 0s" would claim a change.
		state, _ := powerStateOf(server.Status)
		p.send(fmt.Sprintf("Server %d was already %s: the API refused the %s (%s), and nothing was changed",
			id, state, a.verb, refusalText(alreadyThere)))
	default:
		p.send(fmt.Sprintf("Server %d is %s after %s", id, server.Status, p.elapsed()))
	}
}

// refusalText is the API's reason for a refusal, or its status when it gave
// none.
func refusalText(e *vpsorg.APIError) string {
	if e.Message != "" {
		return strconv.Quote(e.Message)
	}
	return fmt.Sprintf("HTTP %d", e.StatusCode)
}

// progress turns the statuses a wait observes into progress messages: one
// when the status changes, and one every progressEvery while it does not.
// The target status is left to the message that ends the action.
type progress struct {
	send   func(string)
	id     int64
	target string
	start  time.Time

	mu       sync.Mutex
	last     string
	lastSent time.Time
}

func newProgress(send func(action.InvokeProgressEvent), id int64, target string) *progress {
	p := &progress{id: id, target: target, start: time.Now(), send: func(string) {}}
	if send != nil {
		p.send = func(msg string) { send(action.InvokeProgressEvent{Message: msg}) }
	}
	return p
}

func (p *progress) elapsed() string {
	return shortDuration(time.Since(p.start))
}

func (p *progress) observed(status string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if status == p.target || status == p.last && time.Since(p.lastSent) < progressEvery {
		return // the end of the wait has its own message
	}
	p.last, p.lastSent = status, time.Now()
	p.send(fmt.Sprintf("Server %d is %s, waiting until it is %s (%s)", p.id, status, p.target, p.elapsed()))
}

// Statuses reach an action's progress through the client's Log hook, which
// is called for every status the waiter observes (vpsorg.Config.Log), with
// the context of the wait: the action puts an observer in that context.

type statusObserverKey struct{}

type statusObserver struct {
	id int64
	f  func(status string)
}

func withStatusObserver(ctx context.Context, id int64, f func(status string)) context.Context {
	return context.WithValue(ctx, statusObserverKey{}, statusObserver{id: id, f: f})
}

// observeStatus passes a status the client logged to the observer of the
// context, if the log entry is about the server it watches.
func observeStatus(ctx context.Context, fields map[string]any) {
	o, ok := ctx.Value(statusObserverKey{}).(statusObserver)
	if !ok {
		return
	}
	id, _ := fields["server_id"].(int64)
	status, isText := fields["status"].(string)
	if id == o.id && isText {
		o.f(status)
	}
}

func shortDuration(d time.Duration) string {
	if d >= time.Minute {
		return d.Round(time.Second).String()
	}
	return d.Round(100 * time.Millisecond).String()
}
