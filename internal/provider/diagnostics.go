package provider

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sort"
	"strings"
	"syscall"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"

	"github.com/vpsorg/terraform-provider-vpsorg/internal/vpsorg"
)

// addError is the one way an error becomes diagnostics. The summary names
// the operation ("Unable to create server"); the detail carries the HTTP
// status, the API's own message and its field messages. Field messages for
// attributes that exist in the schema land on those attributes' paths.
// attributes may be nil when the caller has no attribute paths to offer.
func addError(diags *diag.Diagnostics, summary string, err error, attributes map[string]path.Path) {
	var apiErr *vpsorg.APIError
	if !errors.As(err, &apiErr) {
		detail := err.Error()
		switch {
		case errors.Is(err, context.DeadlineExceeded):
			detail += "\n\nThe operation ran out of time. Raise the matching value in the resource's timeouts block if the API is slow."
		case errors.Is(err, context.Canceled):
			detail += "\n\nThe operation was interrupted."
		}
		diags.AddError(summary, detail)
		return
	}

	switch apiErr.StatusCode {
	case http.StatusPaymentRequired:
		summary = "Insufficient VPS.org credits: " + lowerFirst(summary)
	case http.StatusUnauthorized:
		summary += ": the API token was refused"
	}

	// The URL path is shown because a wrong endpoint shows only there: a
	// 404 from /v1/servers/ reads like any other 404. It comes after the
	// status, which keeps the first words of every message as they were.
	var url string
	if apiErr.Path != "" {
		url = fmt.Sprintf(" (%s %s)", apiErr.Method, apiErr.Path)
	}
	var detail strings.Builder
	if apiErr.StatusCode == 0 {
		detail.WriteString(noAnswer(apiErr))
	} else {
		fmt.Fprintf(&detail, "The VPS.org API answered %q with HTTP %d %s%s", apiErr.Operation,
			apiErr.StatusCode, http.StatusText(apiErr.StatusCode), url)
	}
	switch {
	case apiErr.Message != "":
		fmt.Fprintf(&detail, ": %s", apiErr.Message)
	case apiErr.Err != nil:
		fmt.Fprintf(&detail, ": %s", apiErr.Err)
	}
	if !strings.HasSuffix(detail.String(), ".") {
		detail.WriteString(".")
	}
	// What the caller wrapped around the API error is part of the story:
	// before it, what was under way ("waiting for ...: <API error>"); after
	// it, what was tried next or what to do ("<API error>; ...").
	before, after := wrappedContext(err.Error(), apiErr.Error())
	if before != "" {
		detail.WriteString("\n\nThis happened while " + before + ".")
	}
	if after != "" {
		detail.WriteString("\n\n" + upperFirst(after))
	}

	// Field messages go on the attribute they concern, each with the status
	// and message; the rest stay in one general error.
	fields := make([]string, 0, len(apiErr.Fields))
	for field := range apiErr.Fields {
		fields = append(fields, field)
	}
	sort.Strings(fields)
	var unplaced []string
	for _, field := range fields {
		msg := strings.Join(apiErr.Fields[field], " ")
		if p, ok := attributes[field]; ok {
			diags.AddAttributeError(p, summary, fmt.Sprintf("%s\n\nThe API rejected %s: %s", detail.String(), field, msg))
			continue
		}
		unplaced = append(unplaced, fmt.Sprintf("\n  %s: %s", field, msg))
	}
	if len(fields) > 0 && len(unplaced) == 0 {
		return
	}
	for _, line := range unplaced {
		detail.WriteString(line)
	}

	switch {
	case apiErr.StatusCode == 0:
		if advice := noAnswerAdvice(err, endpointEitherWay, false); advice != "" {
			detail.WriteString("\n\n" + advice)
		}
	case apiErr.StatusCode == http.StatusUnauthorized:
		detail.WriteString("\n\nCheck the api_token in the provider block or the " + envToken + " environment variable.")
	case apiErr.StatusCode == http.StatusNotFound && isCollectionPath(apiErr.Path):
		detail.WriteString("\n\n" + wrongEndpointHint(endpointEitherWay))
	case apiErr.StatusCode == http.StatusTooManyRequests:
		detail.WriteString("\n\nThe API kept rate-limiting until the operation's deadline. Raise the matching value in the " +
			"timeouts block, lower max_requests_per_second (the provider's own pace) or -parallelism, or try again later.")
	}
	diags.AddError(summary, detail.String())
}

// endpointEitherWay is where the endpoint was set, for messages of
// operations that do not know which it was.
const endpointEitherWay = "the endpoint argument of the provider block or the " + envEndpoint + " environment variable"

// noAnswer begins the message of a request that got no answer: the
// operation and the URL path it was sent to.
func noAnswer(e *vpsorg.APIError) string {
	s := fmt.Sprintf("The request %q got no answer from the VPS.org API", e.Operation)
	if e.Path != "" {
		s += fmt.Sprintf(" (%s %s)", e.Method, e.Path)
	}
	return s
}

// noAnswerAdvice says which setting to check when a request got no answer,
// by the kind of failure the client's typed errors show; endpointFrom says
// where the endpoint was set. A timeout other than the connection's counts
// only with timeouts: for the settings check, the first request, where an
// endpoint that does not answer is the likeliest cause; elsewhere it is
// usually the operation's own deadline. "" when the failure names no
// setting.
func noAnswerAdvice(err error, endpointFrom string, timeouts bool) string {
	check := "check the endpoint, set by " + endpointFrom
	var unknownCA x509.UnknownAuthorityError
	var wrongHost x509.HostnameError
	var dnsErr *net.DNSError
	var opErr *net.OpError
	var netErr net.Error
	switch {
	case errors.As(err, &unknownCA):
		return "The endpoint's TLS certificate is signed by an authority this machine does not trust. If the API is " +
			"reached through a private CA or a TLS-inspecting proxy, or is the emulator started with -tls, set ca_file in " +
			"the provider block or the " + envCAFile + " environment variable to that authority's PEM file; otherwise " +
			check + "."
	case errors.As(err, &wrongHost):
		return fmt.Sprintf("The endpoint's TLS certificate is not valid for %q: %s.", wrongHost.Host, check)
	case errors.As(err, &dnsErr):
		return fmt.Sprintf("The host name %q does not resolve: %s, and this machine's DNS.", dnsErr.Name, check)
	case errors.Is(err, syscall.ECONNREFUSED):
		return "Nothing accepts connections at that host and port: " + check +
			", and that the API (or the emulator) is running there."
	case errors.As(err, &opErr) && opErr.Op == "dial":
		return "The endpoint cannot be reached: " + check + ", and any proxy or firewall between this machine and it."
	case timeouts && errors.As(err, &netErr) && netErr.Timeout():
		return "The endpoint did not answer in time: " + check + ", and any proxy or firewall between this machine and it."
	}
	return ""
}

// isCollectionPath reports whether a URL path is the server list's, which
// exists under the right endpoint whatever the account holds: a 404 there
// means the endpoint is wrong, not that a server is gone.
func isCollectionPath(p string) bool {
	return strings.HasSuffix(p, "/servers/") || strings.HasSuffix(p, "/servers")
}

// wrongEndpointHint is the advice for a 404 where the API must answer;
// source says where the endpoint was set.
func wrongEndpointHint(source string) string {
	return "No VPS.org API answers at that path: check the endpoint, set by " + source + ". It must be the API's " +
		"base URL, including the version path, such as " + vpsorg.DefaultEndpoint + " (the emulator prints its own)."
}

// wrappedContext splits what a wrapping error says around the API error's
// own text: the words before it and after it, without the separators.
func wrappedContext(full, inner string) (before, after string) {
	i := strings.Index(full, inner)
	if i < 0 {
		return "", ""
	}
	before = strings.TrimRight(full[:i], " ;:")
	after = strings.TrimLeft(full[i+len(inner):], " ;:")
	return before, after
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// attributePaths maps API field names that are also root attribute names
// to their paths, for addError.
func attributePaths(names ...string) map[string]path.Path {
	out := make(map[string]path.Path, len(names))
	for _, n := range names {
		out[n] = path.Root(n)
	}
	return out
}
