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
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
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
	// Manners are real clouds' habits (manners.go): create lag, a clock
	// offset, partial objects, unknown statuses, redirects, hostile next
	// links, huge error bodies, echoed headers. All off by default.
	Manners Manners
	// ExtendedCatalog adds plans 3 and 4, OS 1, 6 and 7 and the locations
	// eu-central and ap-south to the documented catalog (plans 1 and 2,
	// OS 3 and 5, us-west and us-east). They are the emulator's own
	// invention, for demos that want more choice: no real account is
	// promised to have them, so tests of what the API documents leave
	// this off (the default).
	ExtendedCatalog bool
	// EmptyUpdateAnswer makes PUT and PATCH answer 200 with {} instead of
	// the server. The documentation leaves the body open; a server object
	// (the default) is the natural reading, and a client must cope with both.
	EmptyUpdateAnswer bool
	// RebootKeepsUpdatedAt makes a reboot leave updated_at as it was. The
	// documentation does not promise that a reboot moves it (the default
	// moves it when the reboot begins and ends), so a client must not
	// depend on it.
	RebootKeepsUpdatedAt bool
	// RateLimitHeaders, under a rate limit (SetRateLimit), makes every
	// answer say how much of it is left, in one of the header families
	// real APIs use (RateLimitHeadersFields, RateLimitHeadersDraft,
	// RateLimitHeadersX); default none, as documented. See strictness.go.
	RateLimitHeaders string
	// StrictFilters makes the list answer 400 to a status filter value the
	// documentation does not name (only active, stopped and suspended),
	// as a typical choice filter does. Off by default: any value filters.
	StrictFilters bool
	// JournalSize is how many requests the request journal keeps, the
	// latest; default DefaultJournalSize. See JournalStats.
	JournalSize int
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Log, if non-nil, gets one line per request: method, path, status,
	// duration and account. Never the token. A path (or method) with
	// spaces, quotes or control characters is quoted, as strconv.Quote
	// does, so that no path can write a line of its own.
	Log io.Writer
}

// Emulator is the emulated API. It is an http.Handler; all methods are safe
// for concurrent use.
type Emulator struct {
	tokens     map[string]string
	now        func() time.Time
	honourIdem bool
	manners    *manners
	catalog    catalog
	emptyPatch bool // Options.EmptyUpdateAnswer
	quietBoot  bool // Options.RebootKeepsUpdatedAt
	// rateLimitHeaders and strictFilters: Options of the same names.
	rateLimitHeaders string
	strictFilters    bool

	logMu sync.Mutex
	log   io.Writer

	mu               sync.Mutex
	servers          map[int64]*server
	gone             map[int64]*server // deleted, still visible under the lag
	deleted          deletedHistories
	lag              time.Duration
	nextID           int64
	provisioningTime time.Duration
	transitionTime   time.Duration
	pageSize         int
	credits          int
	accountCredits   map[string]int
	failMatch        func(name string) bool
	idempotent       map[idempotencyKey]storedAnswer
	journal          journal
	faults           []*activeFault
	latency          time.Duration
	rate             float64
	burst            int
	buckets          map[string]*bucket
	chaos            chaos

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
		tokens:           map[string]string{},
		now:              opts.Now,
		honourIdem:       opts.HonourIdempotencyKey,
		catalog:          catalogFor(opts.ExtendedCatalog),
		emptyPatch:       opts.EmptyUpdateAnswer,
		quietBoot:        opts.RebootKeepsUpdatedAt,
		log:              opts.Log,
		servers:          map[int64]*server{},
		gone:             map[int64]*server{},
		deleted:          newDeletedHistories(),
		journal:          newJournal(opts.JournalSize),
		lag:              max(opts.ConsistencyLag, 0),
		nextID:           firstID,
		pageSize:         opts.PageSize,
		credits:          opts.Credits,
		accountCredits:   map[string]int{},
		idempotent:       map[idempotencyKey]storedAnswer{},
		buckets:          map[string]*bucket{},
		addr:             opts.Addr,
		rateLimitHeaders: opts.RateLimitHeaders,
		strictFilters:    opts.StrictFilters,
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
	e.manners = &manners{m: opts.Manners}
	e.manners.offset.Store(int64(opts.Manners.ClockOffset))
	e.now = e.manners.clock(e.now)
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
