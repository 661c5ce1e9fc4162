package emulator

import (
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

var errNotFound = detailError(http.StatusNotFound, "Not found.")

// authenticate resolves the bearer token to an account. Every known token is
// compared in constant time, so timing does not tell how much of a guess was
// right.
func (e *Emulator) authenticate(r *http.Request) (string, bool) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	account, found := "", 0
	for known, acct := range e.tokens {
		if subtle.ConstantTimeCompare([]byte(known), []byte(token)) == 1 {
			account, found = acct, 1
		}
	}
	return account, found == 1 && token != ""
}

// lookup returns the account's server with that id, settled to now. Another
// account's server is reported exactly like a missing one.
func (e *Emulator) lookup(account string, id int64, now time.Time) (*server, bool) {
	s, ok := e.servers[id]
	if !ok || s.account != account {
		return nil, false
	}
	s.settle(now)
	return s, true
}

type listPage struct {
	Count    int        `json:"count"`
	Next     *string    `json:"next"`
	Previous *string    `json:"previous"`
	Results  []listView `json:"results"`
}

func (e *Emulator) list(w http.ResponseWriter, r *http.Request, account string) {
	query := r.URL.Query()
	page := 1
	if values, ok := query["page"]; ok {
		n, ok := parseID(values[0])
		if !ok || n > 1<<31 {
			writeError(w, detailError(http.StatusNotFound, "Invalid page."))
			return
		}
		page = int(n)
	}
	status, location := query.Get("status"), query.Get("location")
	if refused := e.refuseFilter(status); refused != nil {
		writeError(w, refused)
		return
	}

	churn := page > 1 && e.manners.churn()
	now := e.now()
	e.mu.Lock()
	if churn {
		e.churnList(account, now)
	}
	var matched []server
	for _, s := range e.readable(account, now) {
		if (status == "" || s.status == status) && (location == "" || s.location == location) {
			matched = append(matched, s)
		}
	}
	sort.Slice(matched, func(i, j int) bool { return matched[i].id < matched[j].id })
	size := e.pageSize
	pages := max(1, (len(matched)+size-1)/size)
	if page > pages {
		e.mu.Unlock()
		writeError(w, detailError(http.StatusNotFound, "Invalid page."))
		return
	}
	from, to := (page-1)*size, min(page*size, len(matched))
	results := make([]listView, 0, to-from)
	for _, s := range matched[from:to] {
		results = append(results, s.listView())
	}
	e.mu.Unlock()

	answer := listPage{Count: len(matched), Results: results}
	if page < pages {
		answer.Next = pageURL(r, page+1)
	}
	if page > 1 {
		answer.Previous = pageURL(r, page-1)
	}
	writeJSON(w, http.StatusOK, answer)
}

// pageURL is the absolute URL of another page of the same list: the
// request's host and path with every query parameter kept but page.
func pageURL(r *http.Request, page int) *string {
	query := r.URL.Query()
	query.Set("page", strconv.Itoa(page))
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	u := url.URL{Scheme: scheme, Host: r.Host, Path: r.URL.Path, RawQuery: query.Encode()}
	s := u.String()
	return &s
}

func (e *Emulator) create(w http.ResponseWriter, r *http.Request, account string) {
	obj, apiErr := readBody(w, r)
	if apiErr != nil {
		writeError(w, apiErr)
		return
	}
	req, fe := parseCreate(obj, e.catalog)
	if len(fe) > 0 {
		writeError(w, invalid(fe))
		return
	}
	fails := e.provisioningFails(req.name)
	key := idempotencyKey{account: account, key: r.Header.Get("Idempotency-Key")}

	now := e.now()
	e.mu.Lock()
	if e.honourIdem && key.key != "" {
		if stored, ok := e.idempotent[key]; ok {
			e.mu.Unlock()
			writeRaw(w, stored.status, stored.body)
			return
		}
	}
	if e.countServers(account) >= e.creditsFor(account) {
		e.mu.Unlock()
		writeError(w, detailError(http.StatusPaymentRequired, "Insufficient credits."))
		return
	}
	s := e.insert(account, req, now)
	e.startProvisioning(s, fails, now, "POST create")
	body, err := json.Marshal(s.createView())
	if err == nil && e.honourIdem && key.key != "" {
		e.idempotent[key] = storedAnswer{status: http.StatusCreated, body: body}
	}
	e.mu.Unlock()
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, errorBody{Detail: "Internal emulator error."})
		return
	}
	writeRaw(w, http.StatusCreated, body)
}

// provisioningFails asks the FailProvisioning matcher outside the lock, so
// that a matcher may itself call the emulator.
func (e *Emulator) provisioningFails(name string) bool {
	e.mu.Lock()
	match := e.failMatch
	e.mu.Unlock()
	return match != nil && match(name)
}

// countServers and creditsFor need e.mu held.
func (e *Emulator) countServers(account string) int {
	n := 0
	for _, s := range e.servers {
		if s.account == account {
			n++
		}
	}
	return n
}

func (e *Emulator) creditsFor(account string) int {
	if n, ok := e.accountCredits[account]; ok {
		return n
	}
	return e.credits
}

// insert stores a new server with the next id; e.mu must be held.
func (e *Emulator) insert(account string, req createRequest, now time.Time) *server {
	s := &server{
		id:        e.nextID,
		account:   account,
		name:      req.name,
		hostname:  req.hostname,
		location:  req.location,
		plan:      req.plan,
		os:        req.os,
		sshKeyID:  req.sshKeyID,
		backups:   req.backups,
		createdAt: now,
		phase:     phase{updatedAt: now},
	}
	e.nextID++
	e.servers[s.id] = s
	return s
}

func (e *Emulator) startProvisioning(s *server, fails bool, now time.Time, cause string) {
	t := provisioning
	if fails {
		t = failedProvisioning
	}
	s.begin(t, now, e.provisioningTime, cause)
}

func (e *Emulator) get(w http.ResponseWriter, account string, id int64) {
	now := e.now()
	e.mu.Lock()
	s, ok := e.visible(account, id, now)
	var view detailView
	if ok {
		view = s.detailView(now)
	}
	e.mu.Unlock()
	if !ok {
		writeError(w, errNotFound)
		return
	}
	writeJSON(w, http.StatusOK, view)
}

// update serves PUT and PATCH, which are allowed in every status. A missing
// server wins over a bad body, as in the vendor's framework.
func (e *Emulator) update(w http.ResponseWriter, r *http.Request, account string, id int64, put bool) {
	obj, apiErr := readBody(w, r)
	var req updateRequest
	var fe fieldErrors
	if apiErr == nil {
		req, fe = parseUpdate(obj, put)
	}

	now := e.now()
	e.mu.Lock()
	s, ok := e.lookup(account, id, now)
	if !ok {
		e.mu.Unlock()
		writeError(w, errNotFound)
		return
	}
	if apiErr != nil || len(fe) > 0 {
		e.mu.Unlock()
		if apiErr == nil {
			apiErr = invalid(fe)
		}
		writeError(w, apiErr)
		return
	}
	changed := false
	if req.name != nil && *req.name != s.name {
		s.name, changed = *req.name, true
	}
	if req.setHostname && !sameString(req.hostname, s.hostname) {
		s.hostname, changed = req.hostname, true
	}
	if req.backups != nil && *req.backups != s.backups {
		s.backups, changed = *req.backups, true
	}
	if changed {
		s.updatedAt, s.editedAt = now, now
	}
	view, empty := s.detailView(now), e.emptyPatch
	e.mu.Unlock()
	if empty {
		writeJSON(w, http.StatusOK, struct{}{})
		return
	}
	writeJSON(w, http.StatusOK, view)
}

func sameString(a, b *string) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// delete is immediate in every status: the next GET answers 404, or under
// a consistency lag the first GET after it.
func (e *Emulator) delete(w http.ResponseWriter, account string, id int64) {
	now := e.now()
	e.mu.Lock()
	s, ok := e.lookup(account, id, now)
	if ok {
		e.hide(s, now)
		e.remove(s, now, "DELETE")
		if e.lag > 0 {
			e.gone[id] = s
		}
	}
	e.mu.Unlock()
	if !ok {
		writeError(w, errNotFound)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type serverAction struct {
	transition
	verb string
	// from is the one status the action starts from.
	from string
	// refusal is the message when the server is in any other status not
	// covered by the shared rules in action.
	refusal func(status string) string
}

var (
	startAction = serverAction{
		transition: transition{StatusStarting, StatusActive, "started"}, verb: "start", from: StatusStopped,
		refusal: func(status string) string {
			if status == StatusActive {
				return "Server is already running."
			}
			return "Server cannot be started while " + status + "."
		},
	}
	stopAction = serverAction{
		transition: transition{StatusStopping, StatusStopped, "stopped"}, verb: "stop", from: StatusActive,
		refusal: func(string) string { return "Server is not running." },
	}
	rebootAction = serverAction{
		transition: transition{StatusRebooting, StatusActive, "rebooted"}, verb: "reboot", from: StatusActive,
		refusal: func(string) string { return "Server is not running." },
	}
)

// action starts, stops or reboots a server. Whether it may is decided on the
// true status, whatever a lagging reader was last shown.
func (e *Emulator) action(w http.ResponseWriter, account string, id int64, a serverAction) {
	now := e.now()
	e.mu.Lock()
	s, ok := e.lookup(account, id, now)
	if !ok {
		e.mu.Unlock()
		writeError(w, errNotFound)
		return
	}
	var refusal string
	switch s.status {
	case a.from:
	case StatusProvisioning:
		refusal = "Server is still being provisioned."
	case StatusStarting, StatusStopping, StatusRebooting:
		refusal = "Server is " + s.status + "; wait until the action has finished."
	case StatusSuspended:
		refusal = "Server is suspended."
	case StatusError:
		refusal = "Server is in an error state."
	default:
		refusal = a.refusal(s.status)
	}
	if refusal != "" {
		e.mu.Unlock()
		writeError(w, detailError(http.StatusBadRequest, refusal))
		return
	}
	e.hide(s, now)
	updatedBefore := s.updatedAt
	s.begin(a.transition, now, e.transitionTime, "POST "+a.verb)
	if a.verb == rebootAction.verb && e.quietBoot {
		s.updatedAt, s.keepUpdatedAt = updatedBefore, true
	}
	answer := actionView{
		Status:  "success",
		Message: "Server is " + a.transient,
		Server:  actionServerView{ID: s.id, Name: s.name, Status: s.status},
	}
	e.mu.Unlock()
	writeJSON(w, http.StatusOK, answer)
}
