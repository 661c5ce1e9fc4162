package control

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/vpsorg/terraform-provider-vpsorg/internal/emulator"
)

// journalFilter selects requests of the journal; zero fields select all.
type journalFilter struct {
	method, path, route, account string
	status                       int
	since, until                 time.Time
}

// parseJournalFilter reads ?method=&path=&route=&account=&status=&since=&until=;
// path is a prefix, since and until are RFC 3339 times (until excluded).
func parseJournalFilter(r *http.Request) (journalFilter, error) {
	q := r.URL.Query()
	f := journalFilter{
		method: strings.ToUpper(q.Get("method")), path: q.Get("path"),
		route: q.Get("route"), account: q.Get("account"),
	}
	if s := q.Get("status"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			return f, fmt.Errorf("status %q is not a number", s)
		}
		f.status = n
	}
	for _, t := range []struct {
		name string
		dst  *time.Time
	}{{"since", &f.since}, {"until", &f.until}} {
		if s := q.Get(t.name); s != "" {
			v, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
				return f, fmt.Errorf("%s %q is not an RFC 3339 time such as 2026-01-02T15:04:05Z", t.name, s)
			}
			*t.dst = v
		}
	}
	return f, nil
}

func (f journalFilter) match(r emulator.Request) bool {
	return (f.method == "" || r.Method == f.method) &&
		(f.path == "" || strings.HasPrefix(r.Path, f.path)) &&
		(f.route == "" || r.Route == f.route) &&
		(f.account == "" || r.Account == f.account) &&
		(f.status == 0 || r.Status == f.status) &&
		(f.since.IsZero() || !r.Time.Before(f.since)) &&
		(f.until.IsZero() || r.Time.Before(f.until))
}

func (h *Handler) requests(w http.ResponseWriter, r *http.Request) {
	f, err := parseJournalFilter(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	out := []emulator.Request{}
	for _, req := range h.emu.Requests() {
		if f.match(req) {
			out = append(out, req)
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *Handler) requestCounts(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, h.emu.RequestCounts())
}

func (h *Handler) resetRequests(w http.ResponseWriter, _ *http.Request) {
	h.emu.ResetRequests()
	w.WriteHeader(http.StatusNoContent)
}

// journalStats says how many requests the journal keeps of how many came
// since its last reset: the journal keeps the latest only, while the counts
// count all.
func (h *Handler) journalStats(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, h.emu.JournalStats())
}
