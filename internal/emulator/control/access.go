package control

import (
	"crypto/subtle"
	"fmt"
	"mime"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// Who may use the control API. A web page in the user's browser is the
// threat: any site can make the browser send a simple POST (text/plain,
// no preflight) to a loopback port, and any site can point a name of its
// own at 127.0.0.1 (DNS rebinding) and then read the answers as its own.
// So, in this order:
//
//   - a request with an Origin other than the emulator's own is refused,
//     whoever sends it;
//   - a caller on this machine, asking by localhost, a loopback address or
//     one of Options.Hosts, and not through a proxy, is served; anyone
//     else needs the admin token;
//   - a request that changes something must say Content-Type:
//     application/json, which a page of another site cannot send without a
//     preflight the emulator never answers.

// authorize returns 0 when the request may use the control API, else the
// status and message to refuse it with.
func (h *Handler) authorize(r *http.Request) (int, string) {
	if origin := r.Header.Get("Origin"); origin != "" && !sameOrigin(r, origin) {
		return http.StatusForbidden, fmt.Sprintf("Refused a request from a web page of another origin (Origin: %s): "+
			"the control API answers pipelines and pages of its own origin only.", origin)
	}
	if why := h.untrusted(r); why != "" {
		if h.opts.AdminToken == "" {
			return http.StatusForbidden, "Refused " + why + ": without an admin token (-admin-token or " +
				"VPSORG_EMULATOR_ADMIN_TOKEN) the control API answers only callers on this machine, " +
				"asking by localhost or a loopback address."
		}
		given, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(given), []byte(h.opts.AdminToken)) != 1 {
			return http.StatusUnauthorized, "Missing or wrong admin token: " + why +
				" needs Authorization: Bearer <admin token>."
		}
	}
	if changes(r.Method) && !isJSON(r.Header.Get("Content-Type")) {
		return http.StatusUnsupportedMediaType, fmt.Sprintf("A %s to the control API must say Content-Type: application/json, "+
			"even with no body (a web page of another site cannot send that).", r.Method)
	}
	return 0, ""
}

// untrusted says why the request needs the admin token, or "" when it
// comes from this machine by one of the emulator's own names.
func (h *Handler) untrusted(r *http.Request) string {
	if !FromLoopback(r.RemoteAddr) {
		return "a request from a non-loopback address"
	}
	for _, header := range []string{"Forwarded", "X-Forwarded-For", "X-Real-Ip"} {
		if r.Header.Get(header) != "" {
			return fmt.Sprintf("a request through a proxy (it carries %s), whose first caller may be anywhere,", header)
		}
	}
	if !h.ownHost(r.Host) {
		return fmt.Sprintf("a request for Host %q, which is neither a loopback name nor one of the emulator's own "+
			"(a web page's name may point here: DNS rebinding),", r.Host)
	}
	return ""
}

// ownHost reports whether a Host header names this emulator: localhost, a
// loopback address or one of Options.Hosts, with any port.
func (h *Handler) ownHost(hostport string) bool {
	host := hostport
	if hst, _, err := net.SplitHostPort(hostport); err == nil {
		host = hst
	}
	host = strings.ToLower(strings.TrimSuffix(strings.Trim(host, "[]"), "."))
	if host == "" {
		return false
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return true
	}
	return host == "localhost" || slices.ContainsFunc(h.opts.Hosts, func(own string) bool { return strings.EqualFold(own, host) })
}

// sameOrigin reports whether origin is the origin the request was sent to:
// its scheme and Host.
func sameOrigin(r *http.Request, origin string) bool {
	u, err := url.Parse(origin)
	if err != nil || u.Path != "" || u.User != nil {
		return false
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return u.Scheme == scheme && strings.EqualFold(u.Host, r.Host)
}

// changes reports whether a request with this method may change the world.
func changes(method string) bool {
	return method != http.MethodGet && method != http.MethodHead && method != http.MethodOptions
}

func isJSON(contentType string) bool {
	mediaType, _, err := mime.ParseMediaType(contentType)
	return err == nil && mediaType == "application/json"
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
