package emulator

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Routing: which endpoint a request is for, and the order of checks before
// its handler runs (handlers.go).

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
		e.logDone(entry, status, time.Since(began))
		if aborted {
			panic(p)
		}
	}()

	if !e.sleep(r.Context()) {
		dropped = true
		return
	}
	// The API's clock, not the host's: a ClockOffset shows here too.
	w.Header().Set("Date", e.now().UTC().Format(http.TimeFormat))
	if e.manners.redirect(sw, r) {
		return
	}
	if f, ok := e.takeFault(r.Method, route); ok {
		e.markFault(entry)
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
	if e.manners.rewrites() {
		buf := &answerBuffer{header: http.Header{}}
		e.handle(buf, r, route, id, account, authenticated)
		e.manners.rewrite(sw, r, route, buf)
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
		wait, limited, left, on := e.throttle(account)
		if on {
			e.writeRateLimitHeaders(w.Header(), left, e.now())
		}
		if limited {
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
