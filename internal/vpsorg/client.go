// Package vpsorg is a typed client for the VPS.org Servers API v1 (the nine
// server endpoints under https://admin.vps.org/api/v1/servers/).
//
// It owns everything between a Go call and the wire: request building, JSON
// both ways, a retry policy that never repeats a request that may already have
// acted, one pace for all requests under the API's rate limit, errors that
// name the operation and never contain the API token, and a context-bounded
// waiter for status changes. It has no Terraform imports; the
// provider layer builds on it.
package vpsorg

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/net/http/httpproxy"
)

// DefaultEndpoint is the base URL of the production API.
const DefaultEndpoint = "https://admin.vps.org/api/v1/"

const (
	defaultUserAgent     = "terraform-provider-vpsorg/dev"
	defaultRetryMax      = 4
	defaultRetryWaitMin  = 1 * time.Second
	defaultRetryWaitMax  = 30 * time.Second
	defaultMaxRetryAfter = 60 * time.Second

	defaultPollMin      = 200 * time.Millisecond
	defaultPollMax      = 10 * time.Second
	defaultPollFraction = 0.1
)

// Config configures a Client. The zero value of every field selects its
// default.
type Config struct {
	// Endpoint is the base URL including /api/v1/; a missing trailing slash
	// is added. Default DefaultEndpoint.
	Endpoint string
	// Token is the API token sent as "Authorization: Bearer <token>". It
	// never appears in an error or log message.
	Token string
	// UserAgent is the full User-Agent header. Default
	// "terraform-provider-vpsorg/dev".
	UserAgent string
	// HTTPClient is an optional base client. The Client uses a copy of it
	// whose Transport is wrapped (see noReplayTransport); its proxy is its
	// own. Default: a pooled transport with connection, TLS and header
	// timeouts, using the environment's proxy except for loopback hosts.
	HTTPClient *http.Client
	// RootCAs are the certificate authorities the default transport
	// trusts; nil trusts the system's. Ignored with HTTPClient.
	RootCAs *x509.CertPool
	// RetryMax is the number of retries after the first try: 0 selects the
	// default of 4 (5 tries), a negative value disables retries.
	RetryMax int
	// RetryWaitMin and RetryWaitMax bound the exponential, fully jittered
	// backoff between tries. Defaults 1s and 30s.
	RetryWaitMin time.Duration
	RetryWaitMax time.Duration
	// MaxRetryAfter caps how long a server's Retry-After header can make
	// the client wait. Default 60s.
	MaxRetryAfter time.Duration
	// MaxRequestsPerSecond, when positive, caps the client's own request
	// rate: every request, polls included, waits its turn, one at a time
	// (burst 1), so requests are never closer than 1/MaxRequestsPerSecond.
	// 0 leaves the pace to the API's answers (DESIGN.md, "Rate limits").
	MaxRequestsPerSecond float64
	// MaxRateLimitWait bounds how long a request whose context has no
	// deadline keeps waiting out and retrying 429s; with a deadline, the
	// deadline bounds it. 429s are not counted against RetryMax. Default
	// 15 minutes.
	MaxRateLimitWait time.Duration
	// PaceFile, when set, is a file in which the client keeps the pace it
	// learned from the API's 429s (and any hold), and from which a new
	// client for the same endpoint starts within ten minutes: the next
	// process then does not meet the limit with a burst. The token is never
	// written. Default none.
	PaceFile string
	// Poll sets the waiter's poll intervals; zero fields take defaults.
	Poll PollPolicy
	// Log, when set, is called at debug level for every HTTP attempt
	// (method, path, status or error, attempt, duration), for every status
	// the waiter observes, and when a rate-limit hold starts or the
	// client's pace changes. Fields never contain the token.
	Log func(ctx context.Context, msg string, fields map[string]any)
	// Warn, when set, is called for what the user should see: a wait that
	// ended on its grace period without evidence that the action took
	// effect (WaitSpec.Since). When nil, warnings go to Log with the field
	// "level": "warn".
	Warn func(ctx context.Context, msg string, fields map[string]any)
}

// PollPolicy sets how often the waiter polls: the next poll comes after
// Fraction × the time waited so far, clamped to [Min, Max]. Zero or negative
// fields take the defaults 200ms, 10s and 0.1.
type PollPolicy struct {
	Min      time.Duration
	Max      time.Duration
	Fraction float64
}

// Client talks to the VPS.org Servers API. It is safe for concurrent use.
type Client struct {
	base          *url.URL
	token         string
	userAgent     string
	httpClient    *http.Client
	retryMax      int
	retryWaitMin  time.Duration
	retryWaitMax  time.Duration
	maxRetryAfter time.Duration
	// maxRateLimitWait bounds the rate-limit waits without a deadline.
	maxRateLimitWait time.Duration
	pace             *pacer
	poll             PollPolicy
	poller           *poller
	logf             func(ctx context.Context, msg string, fields map[string]any)
	warnf            func(ctx context.Context, msg string, fields map[string]any)
	// deleted holds the ids of the servers this client deleted (int64 →
	// struct{}).
	deleted sync.Map
	// created holds the ids of the servers this client's creates were
	// answered with; shared is the list its callers share (list_shared.go).
	created sync.Map
	shared  sharedList
	// clock is the API's clock as its answers show it (clock.go).
	clock apiClock
	// maxListPages bounds a list read (answers.go).
	maxListPages int
}

// New returns a Client for cfg. It fails when the endpoint is not an absolute
// http or https URL; its errors never contain the token.
func New(cfg Config) (*Client, error) {
	red := redactor(cfg.Token)

	base, err := parseEndpoint(cfg.Endpoint)
	if err != nil {
		return nil, red.err(err)
	}

	c := &Client{
		base:             base,
		token:            cfg.Token,
		userAgent:        cfg.UserAgent,
		retryMax:         cfg.RetryMax,
		retryWaitMin:     cfg.RetryWaitMin,
		retryWaitMax:     cfg.RetryWaitMax,
		maxRetryAfter:    cfg.MaxRetryAfter,
		maxRateLimitWait: cfg.MaxRateLimitWait,
		poll:             cfg.Poll.normalized(),
		maxListPages:     defaultMaxListPages,
		logf:             cfg.Log,
		warnf:            cfg.Warn,
	}
	c.poller = newPoller(c)
	if c.userAgent == "" {
		c.userAgent = defaultUserAgent
	}
	switch {
	case c.retryMax == 0:
		c.retryMax = defaultRetryMax
	case c.retryMax < 0:
		c.retryMax = 0
	}
	if c.retryWaitMin <= 0 {
		c.retryWaitMin = defaultRetryWaitMin
	}
	if c.retryWaitMax <= 0 {
		c.retryWaitMax = defaultRetryWaitMax
	}
	if c.retryWaitMax < c.retryWaitMin {
		c.retryWaitMax = c.retryWaitMin
	}
	if c.maxRetryAfter <= 0 {
		c.maxRetryAfter = defaultMaxRetryAfter
	}
	if c.maxRateLimitWait <= 0 {
		c.maxRateLimitWait = defaultMaxRateLimitWait
	}
	c.pace = newPacer(c, cfg.MaxRequestsPerSecond, cfg.PaceFile)

	var hc http.Client
	if cfg.HTTPClient != nil {
		hc = *cfg.HTTPClient
	} else {
		hc = *defaultHTTPClient(cfg.RootCAs, base.Scheme == "http")
	}
	base2 := hc.Transport
	if base2 == nil {
		base2 = http.DefaultTransport
	}
	hc.Transport = &noReplayTransport{base: base2}
	// No redirect is followed, whatever the method or the target: the API
	// documents none, and net/http would send the token along to another
	// port or from https down to http (it drops the header only across
	// domains), and would turn a PATCH or DELETE into a GET. The 3xx comes
	// back as an answer, and becomes an error naming its Location.
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	c.httpClient = &hc

	return c, nil
}

func parseEndpoint(endpoint string) (*url.URL, error) {
	if endpoint == "" {
		endpoint = DefaultEndpoint
	}
	u, err := url.Parse(endpoint)
	if err != nil {
		return nil, fmt.Errorf("vpsorg: invalid endpoint: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" || u.Opaque != "" {
		return nil, fmt.Errorf("vpsorg: endpoint %q must be an absolute http or https URL", endpoint)
	}
	if u.User != nil {
		// Do not echo the URL: it holds credentials.
		return nil, errors.New("vpsorg: endpoint must not contain user credentials; use the token")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("vpsorg: endpoint %q must not have a query or fragment", endpoint)
	}
	if net.ParseIP(u.Hostname()) == nil {
		// Host names are case-insensitive, and net/http's proxy exclusion
		// knows "localhost" only in lower case.
		u.Host = strings.ToLower(u.Host)
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
		if u.RawPath != "" {
			u.RawPath += "/"
		}
	}
	return u, nil
}

// defaultHTTPClient is a pooled client whose every phase has a timeout, so a
// stalled connection becomes a (retryable) error rather than a hang. For a
// plain http endpoint it connects only to loopback addresses.
func defaultHTTPClient(roots *x509.CertPool, plainHTTP bool) *http.Client {
	dialer := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	if plainHTTP {
		dialer.Control = loopbackOnly
	}
	return &http.Client{
		Timeout: 2 * time.Minute,
		Transport: &http.Transport{
			Proxy:                 proxyFunc(),
			DialContext:           dialer.DialContext,
			ForceAttemptHTTP2:     true,
			MaxIdleConns:          100,
			MaxIdleConnsPerHost:   16,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   10 * time.Second,
			TLSClientConfig:       &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
			ResponseHeaderTimeout: 60 * time.Second,
			ExpectContinueTimeout: 1 * time.Second,
		},
	}
}

// proxyFunc is the environment's proxy (HTTPS_PROXY, HTTP_PROXY, NO_PROXY,
// read now: http.ProxyFromEnvironment reads them once per process), except
// that a loopback host never goes through one. Plain http is allowed only
// on loopback because the token then never leaves the machine; a proxy
// would receive it in clear text, and net/http's own exclusion misses
// "LOCALHOST".
func proxyFunc() func(*http.Request) (*url.URL, error) {
	fromEnv := httpproxy.FromEnvironment().ProxyFunc()
	return func(req *http.Request) (*url.URL, error) {
		if IsLoopbackHost(req.URL.Hostname()) {
			return nil, nil
		}
		return fromEnv(req.URL)
	}
}

// loopbackOnly refuses a connection to an address that is not loopback.
// Plain http is allowed only on loopback, and a name is only a name: a
// "localhost" that resolves elsewhere (a hosts file, a resolver that
// answers for it) would carry the token in clear text off the machine.
func loopbackOnly(_, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("vpsorg: refused to connect to %s: a plain http endpoint must be on a loopback address", address)
	}
	return nil
}

// IsLoopbackHost reports whether host is "localhost" in any case or a
// loopback IP address.
func IsLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// noReplayTransport makes every POST body non-rewindable.
//
// net/http's Transport silently re-sends a request that failed on a reused
// keep-alive connection (the server closed it while we were writing or before
// it answered) when it deems the request replayable: GET and friends, or any
// request with an Idempotency-Key header — provided it can rewind the body
// through Request.GetBody. CreateServer sends an Idempotency-Key, and the
// client sets GetBody on every request with a body, so without this wrapper
// a create whose answer was lost could be sent twice behind our back; against an API that
// ignores the key that is a second server, billed. With GetBody nil the
// Transport cannot rewind the body and returns the error instead, and our own
// retry policy (which refuses to repeat an ambiguous POST) decides.
type noReplayTransport struct {
	base http.RoundTripper
}

func (t *noReplayTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodPost && req.GetBody != nil {
		// RoundTrip must not modify its argument: work on a shallow copy.
		req = req.WithContext(req.Context())
		req.GetBody = nil
	}
	return t.base.RoundTrip(req)
}

// CloseIdleConnections lets http.Client.CloseIdleConnections reach the base
// transport.
func (t *noReplayTransport) CloseIdleConnections() {
	if ci, ok := t.base.(interface{ CloseIdleConnections() }); ok {
		ci.CloseIdleConnections()
	}
}

// resolve returns the absolute URL of ref (a path relative to the endpoint,
// like "servers/12345/").
func (c *Client) resolve(ref string) *url.URL {
	return c.base.ResolveReference(&url.URL{Path: ref})
}

// log calls the configured Log hook, if any.
func (c *Client) log(ctx context.Context, msg string, fields map[string]any) {
	if c.logf != nil {
		c.logf(ctx, msg, fields)
	}
}

// warn calls the configured Warn hook, else Log with "level": "warn".
func (c *Client) warn(ctx context.Context, msg string, fields map[string]any) {
	switch {
	case c.warnf != nil:
		c.warnf(ctx, msg, fields)
	case c.logf != nil:
		withLevel := map[string]any{"level": "warn"}
		maps.Copy(withLevel, fields)
		c.logf(ctx, msg, withLevel)
	}
}

// redactor replaces a secret with "***" in texts that leave the package.
type redactor string

func (r redactor) text(s string) string {
	if r == "" {
		return s
	}
	s = strings.ReplaceAll(s, string(r), "***")
	if esc := url.QueryEscape(string(r)); esc != string(r) {
		s = strings.ReplaceAll(s, esc, "***")
	}
	if esc := url.PathEscape(string(r)); esc != string(r) {
		s = strings.ReplaceAll(s, esc, "***")
	}
	return s
}

func (r redactor) err(err error) error {
	if err == nil || r == "" {
		return err
	}
	if msg := err.Error(); r.text(msg) != msg {
		return &redactedError{msg: r.text(msg), err: err}
	}
	return err
}

// redactedError shows a redacted text but keeps the original error reachable
// for errors.Is and errors.As (e.g. context.DeadlineExceeded).
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }
