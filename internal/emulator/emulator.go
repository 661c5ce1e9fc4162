// Package emulator is a faithful, stateful emulator of the VPS.org Servers
// API v1: the nine documented endpoints, with the server status machine
// driven by a clock, per-token accounts, validation, credits and pagination.
//
// It is a product feature: users run it (through cmd/vpsorg-emulator) for
// offline demos and hermetic pipeline tests, and every provider acceptance
// test runs against it. Where the API is undocumented the emulator makes one
// choice, listed in README.md next to this file and in the repository's
// DESIGN.md.
//
// Tests drive it in-process: New gives an http.Handler, Start a listening
// server. Out-of-band methods (AddServer, SetStatus, DeleteServer, ...)
// simulate the world changing behind Terraform's back; fault hooks
// (InjectFault, SetLatency, SetRateLimit) simulate an unreliable network; the
// request log (Requests, RequestCounts) shows what a client actually sent;
// History shows what the servers went through. Options.ConsistencyLag makes
// the API eventually consistent, as real cloud APIs are.
//
// The emulator uses only the standard library and starts no goroutine per
// server: every status is computed on read from the transition's start and
// duration, so an injected Options.Now clock controls it completely.
package emulator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Defaults for zero Options fields.
const (
	DefaultAddr             = "127.0.0.1:0"
	DefaultToken            = "emulator-token"
	DefaultAccount          = "default"
	DefaultProvisioningTime = 5 * time.Second
	DefaultTransitionTime   = 2 * time.Second
	DefaultPageSize         = 50
	DefaultCredits          = 1000
)

// firstID is the id of the first server created; ids are global across
// accounts and only ever increase.
const firstID = 12345

// Options configures an Emulator. Zero values take the documented defaults.
type Options struct {
	// Addr is the listen address for Start; default "127.0.0.1:0".
	Addr string
	// Tokens maps bearer tokens to account names;
	// default {"emulator-token": "default"}.
	Tokens map[string]string
	// ProvisioningTime is how long a new server stays "provisioning";
	// default 5s, a negative value means instantly.
	ProvisioningTime time.Duration
	// TransitionTime is how long "starting", "stopping" and "rebooting"
	// last; default 2s, a negative value means instantly.
	TransitionTime time.Duration
	// PageSize is the list page size; default 50.
	PageSize int
	// Credits is how many servers an account may hold at once; default
	// 1000, a negative value means none. Creating beyond it answers 402.
	Credits int
	// HonourIdempotencyKey makes a repeated POST /servers/ with the same
	// Idempotency-Key header from the same account return the first 201
	// answer instead of creating another server. Off by default, like the
	// documented API, which ignores the header.
	HonourIdempotencyKey bool
	// ConsistencyLag makes the API eventually consistent: the effect of an
	// action or a DELETE shows in GET and the list only this long after the
	// request, while every decision is taken on the true state at once.
	// Default 0, consistent; a negative value means 0. See
	// SetConsistencyLag.
	ConsistencyLag time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Log, if non-nil, gets one line per request: method, path, status,
	// duration and account. Never the token.
	Log io.Writer
}

// Emulator is the emulated API. It is an http.Handler; all methods are safe
// for concurrent use.
type Emulator struct {
	tokens     map[string]string
	now        func() time.Time
	honourIdem bool

	logMu sync.Mutex
	log   io.Writer

	mu               sync.Mutex
	servers          map[int64]*server
	gone             map[int64]*server        // deleted, still visible under the lag
	history          map[int64][]StatusChange // of deleted servers
	lag              time.Duration
	nextID           int64
	provisioningTime time.Duration
	transitionTime   time.Duration
	pageSize         int
	credits          int
	accountCredits   map[string]int
	failMatch        func(name string) bool
	idempotent       map[idempotencyKey]storedAnswer
	requests         []*Request
	faults           []*activeFault
	latency          time.Duration
	rate             float64
	burst            int
	buckets          map[string]*bucket

	addr     string
	listener net.Listener
	httpSrv  *http.Server
	serveErr chan error
}

type idempotencyKey struct{ account, key string }

type storedAnswer struct {
	status int
	body   []byte
}

// New returns an Emulator that is not listening; serve it with ServeHTTP
// (for example through httptest.NewServer) or use Start instead.
func New(opts Options) *Emulator {
	e := &Emulator{
		tokens:         map[string]string{},
		now:            opts.Now,
		honourIdem:     opts.HonourIdempotencyKey,
		log:            opts.Log,
		servers:        map[int64]*server{},
		gone:           map[int64]*server{},
		history:        map[int64][]StatusChange{},
		lag:            max(opts.ConsistencyLag, 0),
		nextID:         firstID,
		pageSize:       opts.PageSize,
		credits:        opts.Credits,
		accountCredits: map[string]int{},
		idempotent:     map[idempotencyKey]storedAnswer{},
		buckets:        map[string]*bucket{},
		addr:           opts.Addr,
	}
	for token, account := range opts.Tokens {
		e.tokens[token] = account
	}
	if len(e.tokens) == 0 {
		e.tokens[DefaultToken] = DefaultAccount
	}
	if e.now == nil {
		e.now = time.Now
	}
	e.provisioningTime = durationOption(opts.ProvisioningTime, DefaultProvisioningTime)
	e.transitionTime = durationOption(opts.TransitionTime, DefaultTransitionTime)
	if e.pageSize <= 0 {
		e.pageSize = DefaultPageSize
	}
	switch {
	case e.credits == 0:
		e.credits = DefaultCredits
	case e.credits < 0:
		e.credits = 0
	}
	if e.addr == "" {
		e.addr = DefaultAddr
	}
	return e
}

func durationOption(d, def time.Duration) time.Duration {
	switch {
	case d == 0:
		return def
	case d < 0:
		return 0
	}
	return d
}

// Start creates an Emulator and serves it in the background on opts.Addr,
// which defaults to a free loopback port. Another address is used only when
// the caller passes it explicitly.
func Start(opts Options) (*Emulator, error) {
	e := New(opts)
	var lc net.ListenConfig
	ln, err := lc.Listen(context.Background(), "tcp", e.addr)
	if err != nil {
		return nil, fmt.Errorf("emulator: listen on %s: %w", e.addr, err)
	}
	e.listener = ln
	e.httpSrv = &http.Server{Handler: e, ReadHeaderTimeout: 10 * time.Second}
	e.serveErr = make(chan error, 1)
	go func() { e.serveErr <- e.httpSrv.Serve(ln) }()
	return e, nil
}

// URL returns the API base URL, "http://127.0.0.1:PORT/api/v1/", with a
// trailing slash. It is empty unless the emulator was started with Start.
func (e *Emulator) URL() string {
	if e.listener == nil {
		return ""
	}
	return BaseURL(e.listener.Addr())
}

// BaseURL turns a listener address into the API base URL; an unspecified
// host (0.0.0.0, ::) becomes 127.0.0.1, which reaches it too.
func BaseURL(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return "http://" + addr.String() + "/api/v1/"
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/api/v1/"
}

// Close stops a started emulator at once, closing open connections. It does
// nothing for an emulator made with New.
func (e *Emulator) Close() error {
	if e.httpSrv == nil {
		return nil
	}
	err := e.httpSrv.Close()
	if serveErr := <-e.serveErr; serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) && err == nil {
		err = serveErr
	}
	e.serveErr <- http.ErrServerClosed // a second Close must not block
	return err
}

// Routes: the path templates used in Request.Route, Fault.Route and the keys
// of RequestCounts.
const (
	RouteServers = "/api/v1/servers/"
	RouteServer  = "/api/v1/servers/{id}/"
	RouteStart   = "/api/v1/servers/{id}/start/"
	RouteStop    = "/api/v1/servers/{id}/stop/"
	RouteReboot  = "/api/v1/servers/{id}/reboot/"
	RouteOther   = "other"
)

// classify maps a path to its route template and the id segment, if any.
// Every path ends with a slash; there are no redirects.
func classify(path string) (route, id string) {
	if path == RouteServers {
		return RouteServers, ""
	}
	rest, ok := strings.CutPrefix(path, RouteServers)
	if !ok {
		return RouteOther, ""
	}
	rest, ok = strings.CutSuffix(rest, "/")
	if !ok {
		return RouteOther, ""
	}
	id, action, hasAction := strings.Cut(rest, "/")
	if id == "" {
		return RouteOther, ""
	}
	if !hasAction {
		return RouteServer, id
	}
	switch action {
	case "start":
		return RouteStart, id
	case "stop":
		return RouteStop, id
	case "reboot":
		return RouteReboot, id
	}
	return RouteOther, ""
}

var allowedMethods = map[string][]string{
	RouteServers: {http.MethodGet, http.MethodPost},
	RouteServer:  {http.MethodGet, http.MethodPut, http.MethodPatch, http.MethodDelete},
	RouteStart:   {http.MethodPost},
	RouteStop:    {http.MethodPost},
	RouteReboot:  {http.MethodPost},
}

// ServeHTTP answers one API request. The order is: request log entry,
// latency, injected fault, then route (404), rate limit (429),
// authentication (401), method (405), id (404) and the endpoint itself.
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	began := time.Now()
	route, id := classify(r.URL.Path)
	account, authenticated := e.authenticate(r)
	entry := e.logArrival(r, route, account)
	sw := &statusWriter{ResponseWriter: w}
	dropped := false

	defer func() {
		p := recover()
		// net/http's own sentinel: the handler asks for the connection to
		// be dropped, and the panic must reach the server to do it.
		perr, _ := p.(error)
		aborted := errors.Is(perr, http.ErrAbortHandler)
		if p != nil && !aborted && sw.status == 0 {
			// A last resort: no input should get here, and the fuzz tests
			// say none does.
			writeJSON(sw, http.StatusInternalServerError, errorBody{Detail: "Internal emulator error."})
		}
		status := sw.status
		if dropped || aborted {
			status = 0
		} else if status == 0 {
			status = http.StatusOK
		}
		e.logDone(entry, r, status, time.Since(began))
		if aborted {
			panic(p)
		}
	}()

	if !e.sleep(r.Context()) {
		dropped = true
		return
	}
	if f, ok := e.takeFault(r.Method, route); ok {
		if f.AfterAction {
			e.handle(&discardWriter{header: http.Header{}}, r, route, id, account, authenticated)
		}
		if f.DropConnection {
			dropped = true
			dropConnection(w)
			return
		}
		writeFault(sw, f)
		return
	}
	e.handle(sw, r, route, id, account, authenticated)
}

// handle is the API proper, without the fault and latency layer.
func (e *Emulator) handle(w http.ResponseWriter, r *http.Request, route, id, account string, authenticated bool) {
	if route == RouteOther {
		writeError(w, detailError(http.StatusNotFound, "Not found."))
		return
	}
	if authenticated {
		if wait, limited := e.throttle(account); limited {
			w.Header().Set("Retry-After", fmt.Sprint(wait))
			writeError(w, detailError(http.StatusTooManyRequests,
				fmt.Sprintf("Request was throttled. Expected available in %d seconds.", wait)))
			return
		}
	}
	if !authenticated {
		w.Header().Set("WWW-Authenticate", `Bearer realm="api"`)
		writeError(w, detailError(http.StatusUnauthorized, "Invalid or missing API token."))
		return
	}
	allowed := allowedMethods[route]
	if !contains(allowed, r.Method) {
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		writeError(w, detailError(http.StatusMethodNotAllowed, fmt.Sprintf("Method %q not allowed.", r.Method)))
		return
	}
	if route == RouteServers {
		if r.Method == http.MethodGet {
			e.list(w, r, account)
		} else {
			e.create(w, r, account)
		}
		return
	}
	serverID, ok := parseID(id)
	if !ok {
		writeError(w, errNotFound)
		return
	}
	switch route {
	case RouteServer:
		switch r.Method {
		case http.MethodGet:
			e.get(w, account, serverID)
		case http.MethodPut, http.MethodPatch:
			e.update(w, r, account, serverID, r.Method == http.MethodPut)
		case http.MethodDelete:
			e.delete(w, account, serverID)
		}
	case RouteStart:
		e.action(w, account, serverID, startAction)
	case RouteStop:
		e.action(w, account, serverID, stopAction)
	case RouteReboot:
		e.action(w, account, serverID, rebootAction)
	}
}

// parseID accepts only positive decimal integers that fit int64.
func parseID(s string) (int64, bool) {
	if s == "" || len(s) > 19 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		d := int64(c - '0')
		if n > (1<<63-1-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	return n, n > 0
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		status, data = http.StatusInternalServerError, []byte(`{"detail":"Internal emulator error."}`)
	}
	writeRaw(w, status, data)
}

func writeRaw(w http.ResponseWriter, status int, data []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(data)
}

func writeError(w http.ResponseWriter, a *apiError) { writeJSON(w, a.status, a.body()) }

// statusWriter remembers the status written, for the request log.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// discardWriter swallows the real answer of a request whose fault has
// AfterAction set.
type discardWriter struct{ header http.Header }

func (d *discardWriter) Header() http.Header         { return d.header }
func (d *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d *discardWriter) WriteHeader(int)             {}
