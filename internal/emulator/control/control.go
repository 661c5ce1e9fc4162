// Package control is the emulator's control API: the Go hooks of
// internal/emulator over HTTP, under /_emulator/, so that a pipeline in any
// language can reset the world, change servers behind Terraform's back,
// inject faults, change settings at run time and read the request journal
// and each server's history.
//
// Requests from a loopback address are served as they come; from any other
// address they need the admin token (Options.AdminToken), and without one
// configured they are refused: the emulator's API tokens are well known,
// its control must not be.
package control

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"

	"github.com/vpsorg/terraform-provider-vpsorg/internal/emulator"
)

// Prefix is where the control API is served, outside the API's /api/v1/.
const Prefix = "/_emulator/"

// HealthPath answers 200 to anyone, with no token: a readiness probe.
const HealthPath = Prefix + "health"

// Options configures the control API.
type Options struct {
	// AdminToken is the bearer token a request from a non-loopback address
	// must carry; "" refuses such requests.
	AdminToken string
	// Reset puts the world back as it was at start (the seed); default
	// Emulator.Reset.
	Reset func() error
	// Changed, if set, is called after every request that may have changed
	// the world, for instance to save it.
	Changed func()
}

// Handler serves the control API; it is an http.Handler for Prefix.
type Handler struct {
	emu  *emulator.Emulator
	opts Options
	mux  *http.ServeMux
	set  *settingValues
}

// New returns the control API for emu.
func New(emu *emulator.Emulator, opts Options) *Handler {
	if opts.Reset == nil {
		opts.Reset = func() error { emu.Reset(); return nil }
	}
	h := &Handler{emu: emu, opts: opts, mux: http.NewServeMux(), set: newSettingValues()}
	h.mux.HandleFunc("GET "+HealthPath, func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	h.mux.HandleFunc("POST "+Prefix+"reset", h.reset)
	h.mux.HandleFunc("GET "+Prefix+"state", h.getState)
	h.mux.HandleFunc("PUT "+Prefix+"state", h.putState)
	h.mux.HandleFunc("GET "+Prefix+"servers", h.listServers)
	h.mux.HandleFunc("POST "+Prefix+"servers", h.addServer)
	h.mux.HandleFunc("GET "+Prefix+"servers/{id}", h.getServer)
	h.mux.HandleFunc("PATCH "+Prefix+"servers/{id}", h.changeServer)
	h.mux.HandleFunc("DELETE "+Prefix+"servers/{id}", h.deleteServer)
	h.mux.HandleFunc("GET "+Prefix+"servers/{id}/history", h.history)
	h.mux.HandleFunc("POST "+Prefix+"faults", h.injectFaults)
	h.mux.HandleFunc("DELETE "+Prefix+"faults", h.clearFaults)
	h.mux.HandleFunc("GET "+Prefix+"settings", h.getSettings)
	h.mux.HandleFunc("PATCH "+Prefix+"settings", h.patchSettings)
	h.mux.HandleFunc("GET "+Prefix+"requests", h.requests)
	h.mux.HandleFunc("DELETE "+Prefix+"requests", h.resetRequests)
	h.mux.HandleFunc("GET "+Prefix+"requests/counts", h.requestCounts)
	h.mux.HandleFunc("GET "+Prefix+"journal", h.journalStats)
	return h
}

// ServeHTTP checks who asks, then serves the request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != HealthPath {
		if status, msg := h.authorize(r); status != 0 {
			writeError(w, status, msg)
			return
		}
	}
	h.mux.ServeHTTP(w, r)
	if r.Method != http.MethodGet && h.opts.Changed != nil {
		h.opts.Changed()
	}
}

// authorize returns 0 when the request may use the control API, else the
// status and message to refuse it with.
func (h *Handler) authorize(r *http.Request) (int, string) {
	if FromLoopback(r.RemoteAddr) {
		return 0, ""
	}
	if h.opts.AdminToken == "" {
		return http.StatusForbidden, "The control API answers only loopback addresses unless the emulator " +
			"has an admin token (-admin-token or VPSORG_EMULATOR_ADMIN_TOKEN)."
	}
	given, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || subtle.ConstantTimeCompare([]byte(given), []byte(h.opts.AdminToken)) != 1 {
		w := "Missing or wrong admin token: requests to the control API from a non-loopback address " +
			"need Authorization: Bearer <admin token>."
		return http.StatusUnauthorized, w
	}
	return 0, ""
}

// FromLoopback reports whether a remote address (host:port) is a loopback
// address.
func FromLoopback(remoteAddr string) bool {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (h *Handler) reset(w http.ResponseWriter, _ *http.Request) {
	if err := h.opts.Reset(); err != nil {
		writeError(w, http.StatusInternalServerError, "Reset failed: "+err.Error())
		return
	}
	writeJSON(w, http.StatusOK, h.emu.Snapshot())
}

func (h *Handler) getState(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, h.emu.Snapshot())
}

func (h *Handler) putState(w http.ResponseWriter, r *http.Request) {
	var st emulator.State
	if !readJSON(w, r, &st) {
		return
	}
	if err := h.emu.Restore(st); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, h.emu.Snapshot())
}

// serverID parses the {id} path segment, answering 404 when it is no id.
func serverID(w http.ResponseWriter, r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		writeError(w, http.StatusNotFound, fmt.Sprintf("No server %q: an id is a positive integer.", r.PathValue("id")))
		return 0, false
	}
	return id, true
}

func (h *Handler) listServers(w http.ResponseWriter, r *http.Request) {
	accounts := h.emu.Accounts()
	if a := r.URL.Query().Get("account"); a != "" {
		accounts = []string{a}
	}
	out := []emulator.Server{}
	for _, a := range accounts {
		out = append(out, h.emu.Servers(a)...)
	}
	writeJSON(w, http.StatusOK, out)
}

// addServerRequest is a ServerSpec with the account it is for.
type addServerRequest struct {
	Account string `json:"account"`
	emulator.ServerSpec
}

func (h *Handler) addServer(w http.ResponseWriter, r *http.Request) {
	var req addServerRequest
	if !readJSON(w, r, &req) {
		return
	}
	if req.Account == "" {
		req.Account = emulator.DefaultAccount
	}
	s, err := h.emu.AddServer(req.Account, req.ServerSpec)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	writeJSON(w, http.StatusCreated, s)
}

func (h *Handler) getServer(w http.ResponseWriter, r *http.Request) {
	id, ok := serverID(w, r)
	if !ok {
		return
	}
	s, ok := h.emu.Server(id)
	if !ok {
		writeError(w, http.StatusNotFound, fmt.Sprintf("No server %d.", id))
		return
	}
	writeJSON(w, http.StatusOK, s)
}

// changeRequest is an out-of-band change: drift (a new name), suspension,
// a failed server (a new status).
type changeRequest struct {
	Name   *string `json:"name"`
	Status *string `json:"status"`
}

func (h *Handler) changeServer(w http.ResponseWriter, r *http.Request) {
	id, ok := serverID(w, r)
	if !ok {
		return
	}
	var req changeRequest
	if !readJSON(w, r, &req) {
		return
	}
	if req.Status != nil && *req.Status == "" {
		writeError(w, http.StatusBadRequest, "status must not be empty")
		return
	}
	found := true
	if req.Name != nil {
		found = h.emu.RenameServer(id, *req.Name)
	}
	if found && req.Status != nil {
		found = h.emu.SetStatus(id, *req.Status)
	}
	if !found {
		writeError(w, http.StatusNotFound, fmt.Sprintf("No server %d.", id))
		return
	}
	h.getServer(w, r)
}

func (h *Handler) deleteServer(w http.ResponseWriter, r *http.Request) {
	id, ok := serverID(w, r)
	if !ok {
		return
	}
	if !h.emu.DeleteServer(id) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("No server %d.", id))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *Handler) history(w http.ResponseWriter, r *http.Request) {
	id, ok := serverID(w, r)
	if !ok {
		return
	}
	hist := h.emu.History(id)
	if len(hist) == 0 {
		writeError(w, http.StatusNotFound, fmt.Sprintf("No server %d, now or before.", id))
		return
	}
	writeJSON(w, http.StatusOK, hist)
}

// injectFaults takes one fault object or a list of them.
func (h *Handler) injectFaults(w http.ResponseWriter, r *http.Request) {
	var raw json.RawMessage
	if !readJSON(w, r, &raw) {
		return
	}
	var faults []emulator.Fault
	if err := json.Unmarshal(raw, &faults); err != nil {
		var one emulator.Fault
		if err := strictUnmarshal(raw, &one); err != nil {
			writeError(w, http.StatusBadRequest, "A fault is an object (or a list of them) with method, route, "+
				"count, status, retry_after, body, after_action, drop_connection: "+err.Error())
			return
		}
		faults = []emulator.Fault{one}
	}
	for _, f := range faults {
		h.emu.InjectFault(f)
	}
	writeJSON(w, http.StatusCreated, faults)
}

func (h *Handler) clearFaults(w http.ResponseWriter, _ *http.Request) {
	h.emu.ClearFaults()
	h.set.forget("latency", "rate_limit")
	w.WriteHeader(http.StatusNoContent)
}

// maxBody bounds a control request's body.
const maxBody = 8 << 20

// readJSON decodes the body into v, refusing unknown fields; on failure it
// answers 400 and reports false.
func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err == nil {
		err = strictUnmarshal(data, v)
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, "Invalid JSON body: "+err.Error())
		return false
	}
	return true
}

func strictUnmarshal(data []byte, v any) error {
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("more than one JSON value")
	}
	return nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func writeError(w http.ResponseWriter, status int, detail string) {
	writeJSON(w, status, map[string]string{"detail": detail})
}
