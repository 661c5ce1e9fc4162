package emulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Manners are the habits real clouds' APIs have and the documented API
// does not rule out: new servers that show late, a clock that is off,
// partial objects during maintenance, statuses no document lists,
// redirects, hostile next links, huge error bodies, answers that echo the
// request. Each is off by default. They live here, apart from the model:
// all but two rewrite an answer after the API proper wrote it; CreateLag
// hides new servers from readers (visible and readable), and ClockOffset
// moves the emulator's clock.
type Manners struct {
	// CreateLag keeps a new server out of GET (404) and the list for this
	// long after its create, as EC2's InvalidInstanceID.NotFound does. The
	// create's own answer shows it.
	CreateLag time.Duration
	// ClockOffset moves the emulator's clock: every timestamp and the Date
	// header are this far ahead of the real time (behind when negative).
	ClockOffset time.Duration
	// PartialEvery, when positive, strips "plan", "os" and "location" from
	// every PartialEvery-th answer that shows servers (GET, list page).
	PartialEvery int
	// UnknownStatus, when set, replaces "active" in every answer that shows
	// servers, as an API shows a status of its own ("maintenance").
	UnknownStatus string
	// RedirectTo, when set, answers every request 307 with Location set
	// to RedirectTo followed by the request's path and query.
	RedirectTo string
	// HostileNext, when set, is the "next" link of every list page: another
	// origin, the same page with a fragment, a page that never ends.
	HostileNext string
	// HugeErrors makes every error body about 1 MiB, nested 200 levels deep.
	HugeErrors bool
	// EchoHeaders makes every error body echo the request's headers, the
	// Authorization header included, as some debugging proxies do.
	EchoHeaders bool
	// ListChurn makes the list change between page reads, as another
	// client of the account would: each of the next ListChurn requests for
	// a list page after the first (every one, when negative) first deletes
	// the account's oldest server and creates one like it (same name,
	// plan, OS and location; active). The count stays, every later page
	// shifts by one, and a reader that does not look again skips a server
	// that existed throughout. Each churn counts down the setting.
	ListChurn int
}

// manners is the emulator's state for its Manners.
type manners struct {
	mu     sync.Mutex
	m      Manners
	shown  atomic.Int64 // answers that showed servers, for PartialEvery
	offset atomic.Int64 // ClockOffset, read on every look at the clock
}

func (m *manners) current() Manners {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.m
}

// SetManners changes the manners from now on. A new ClockOffset moves the
// API's clock at once: transitions under way then end earlier or later by
// the change, as on an API whose clock was just corrected.
func (e *Emulator) SetManners(m Manners) {
	e.manners.mu.Lock()
	defer e.manners.mu.Unlock()
	e.manners.m = m
	e.manners.offset.Store(int64(m.ClockOffset))
}

// Manners returns the manners in force.
func (e *Emulator) Manners() Manners { return e.manners.current() }

// churn reports whether a request for a list page after the first should
// change the list first (ListChurn), counting it down.
func (m *manners) churn() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch {
	case m.m.ListChurn < 0:
		return true
	case m.m.ListChurn > 0:
		m.m.ListChurn--
		return true
	}
	return false
}

// churnList deletes account's oldest server and creates one like it, for
// ListChurn. e.mu must be held.
func (e *Emulator) churnList(account string, now time.Time) {
	var oldest *server
	for _, s := range e.servers {
		if s.account == account && (oldest == nil || s.id < oldest.id) {
			oldest = s
		}
	}
	if oldest == nil {
		return
	}
	oldest.settle(now)
	e.remove(oldest, now, "ListChurn")
	like := createRequest{name: oldest.name, hostname: cloneString(oldest.hostname), location: oldest.location,
		plan: oldest.plan, os: oldest.os, backups: oldest.backups}
	e.insert(account, like, now).setStatus(StatusActive, now, "ListChurn")
}

// rewrites reports whether any manner rewrites answers.
func (m *manners) rewrites() bool {
	c := m.current()
	return c.PartialEvery > 0 || c.UnknownStatus != "" || c.HostileNext != "" || c.HugeErrors || c.EchoHeaders
}

// clock is now moved by the ClockOffset manner in force.
func (m *manners) clock(now func() time.Time) func() time.Time {
	return func() time.Time { return now().Add(time.Duration(m.offset.Load())) }
}

// creating reports whether s is still hidden by CreateLag at now.
func (m *manners) creating(s *server, now time.Time) bool {
	lag := m.current().CreateLag
	return lag > 0 && now.Before(s.createdAt.Add(lag))
}

// redirect answers r with a redirect when the manner says so.
func (m *manners) redirect(w http.ResponseWriter, r *http.Request) bool {
	to := m.current().RedirectTo
	if to == "" {
		return false
	}
	target := strings.TrimSuffix(to, "/") + r.URL.RequestURI()
	w.Header().Set("Location", target)
	w.WriteHeader(http.StatusTemporaryRedirect)
	return true
}

// answerBuffer holds an answer until the manners have rewritten it.
type answerBuffer struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *answerBuffer) Header() http.Header { return b.header }
func (b *answerBuffer) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.body.Write(p)
}
func (b *answerBuffer) WriteHeader(code int) {
	if b.status == 0 {
		b.status = code
	}
}

// rewrite sends the buffered answer to w, as the manners change it.
func (m *manners) rewrite(w http.ResponseWriter, r *http.Request, route string, b *answerBuffer) {
	body := b.body.Bytes()
	status := b.status
	if status == 0 {
		status = http.StatusOK
	}
	switch {
	case status >= 400:
		body = m.errorBody(r, body)
	case r.Method == http.MethodGet && (route == RouteServer || route == RouteServers):
		body = m.serversBody(route, body)
	}
	for k, vs := range b.header {
		w.Header()[k] = vs
	}
	w.Header().Del("Content-Length")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// serversBody applies PartialEvery, UnknownStatus and HostileNext to a GET
// or list answer.
func (m *manners) serversBody(route string, body []byte) []byte {
	c := m.current()
	var doc map[string]any
	if json.Unmarshal(body, &doc) != nil {
		return body
	}
	objects := []map[string]any{doc}
	if route == RouteServers {
		objects = nil
		results, _ := doc["results"].([]any)
		for _, item := range results {
			if obj, ok := item.(map[string]any); ok {
				objects = append(objects, obj)
			}
		}
		if c.HostileNext != "" {
			doc["next"] = c.HostileNext
		}
	}
	partial := c.PartialEvery > 0 && m.shown.Add(1)%int64(c.PartialEvery) == 0
	for _, obj := range objects {
		if partial {
			delete(obj, "plan")
			delete(obj, "os")
			delete(obj, "location")
		}
		if c.UnknownStatus != "" && obj["status"] == StatusActive {
			obj["status"] = c.UnknownStatus
		}
	}
	out, err := json.Marshal(doc)
	if err != nil {
		return body
	}
	return out
}

// errorBody applies EchoHeaders and HugeErrors to an error answer.
func (m *manners) errorBody(r *http.Request, body []byte) []byte {
	c := m.current()
	if c.EchoHeaders {
		names := make([]string, 0, len(r.Header))
		for name := range r.Header {
			names = append(names, name)
		}
		sort.Strings(names)
		var echo strings.Builder
		for _, name := range names {
			fmt.Fprintf(&echo, "%s: %s; ", name, strings.Join(r.Header[name], ", "))
		}
		body, _ = json.Marshal(errorBody{Detail: "Request was: " + echo.String()})
	}
	if c.HugeErrors {
		const depth = 200
		filler := strings.Repeat("x", 1<<20/depth)
		var b strings.Builder
		b.WriteString(`{"detail": "Huge error.", "errors": `)
		for range depth {
			fmt.Fprintf(&b, `{"note": %q, "field": `, filler)
		}
		b.WriteString(`["too deep"]`)
		b.WriteString(strings.Repeat("}", depth))
		b.WriteString("}")
		body = []byte(b.String())
	}
	return body
}
