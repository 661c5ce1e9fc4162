package provider

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"

	"github.com/vpsorg/terraform-provider-vpsorg/internal/vpsorg"
)

func TestAddError(t *testing.T) {
	fieldErr := &vpsorg.APIError{Operation: "create server", StatusCode: 400, Message: "Invalid parameters.",
		Fields: map[string][]string{"name": {"Too long."}, "color": {"Unknown field."}}}
	cases := []struct {
		name        string
		err         error
		wantSummary string
		wantDetail  []string
		wantPaths   []string
		notInDetail []string
	}{
		{
			name:        "status, operation and message",
			err:         &vpsorg.APIError{Operation: "get server 7", StatusCode: 503, Message: "Try later"},
			wantSummary: "Unable to act",
			wantDetail:  []string{`"get server 7"`, "HTTP 503 Service Unavailable", "Try later."},
		},
		{
			name:        "field messages go on their attribute, the rest stay general",
			err:         fieldErr,
			wantSummary: "Unable to act",
			wantDetail:  []string{"HTTP 400", "The API rejected name: Too long.", "color: Unknown field."},
			wantPaths:   []string{"name", ""},
		},
		{
			name:        "402 says credits",
			err:         &vpsorg.APIError{Operation: "create server", StatusCode: 402, Message: "Insufficient credits."},
			wantSummary: "Insufficient VPS.org credits: unable to act",
			wantDetail:  []string{"HTTP 402 Payment Required"},
		},
		{
			name:        "401 names the variable",
			err:         &vpsorg.APIError{Operation: "list servers", StatusCode: 401, Message: "Invalid token."},
			wantSummary: "Unable to act: the API token was refused",
			wantDetail:  []string{"HTTP 401", "VPSORG_API_TOKEN"},
		},
		{
			name:        "what the caller wrapped around the API error is kept",
			err:         fmt.Errorf("%w; no server named %q was found", &vpsorg.APIError{Operation: "create server", StatusCode: 500}, "web"),
			wantSummary: "Unable to act",
			wantDetail:  []string{"HTTP 500 Internal Server Error.", `No server named "web" was found`},
		},
		{
			name:        "what was under way when the API failed is said, with no dangling separator",
			err:         fmt.Errorf("waiting for server 7 to become active: %w", &vpsorg.APIError{Operation: "get server 7", StatusCode: 500, Message: "Boom"}),
			wantSummary: "Unable to act",
			wantDetail:  []string{"HTTP 500 Internal Server Error: Boom.", "This happened while waiting for server 7 to become active."},
			notInDetail: []string{"active: ", ": \n", "Waiting for server 7 to become active: "},
		},
		{
			name:        "the URL path that answered is named, after the status",
			err:         &vpsorg.APIError{Operation: "get server 7", Method: "GET", Path: "/api/v1/servers/7/", StatusCode: 503},
			wantSummary: "Unable to act",
			wantDetail:  []string{`answered "get server 7" with HTTP 503 Service Unavailable (GET /api/v1/servers/7/).`},
		},
		{
			name:        "a 404 on the server list says to check the endpoint and where it is set",
			err:         &vpsorg.APIError{Operation: "create server", Method: "POST", Path: "/v1/servers/", StatusCode: 404, Message: "Not found."},
			wantSummary: "Unable to act",
			wantDetail: []string{"HTTP 404 Not Found (POST /v1/servers/): Not found.", "check the endpoint",
				"the endpoint argument of the provider block or the VPSORG_ENDPOINT environment variable"},
		},
		{
			name:        "a 404 on one server is only that server's",
			err:         &vpsorg.APIError{Operation: "get server 7", Method: "GET", Path: "/api/v1/servers/7/", StatusCode: 404},
			wantSummary: "Unable to act",
			notInDetail: []string{"check the endpoint"},
		},
		{
			name:        "a timeout says which knob to turn",
			err:         fmt.Errorf("waiting: %w", context.DeadlineExceeded),
			wantSummary: "Unable to act",
			wantDetail:  []string{"timeouts block"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var diags diag.Diagnostics
			addError(&diags, "Unable to act", tc.err, map[string]path.Path{"name": path.Root("name")})
			if !diags.HasError() {
				t.Fatal("no error diagnostic")
			}
			var all strings.Builder
			var paths []string
			for _, d := range diags {
				if d.Summary() != tc.wantSummary {
					t.Errorf("summary %q, want %q", d.Summary(), tc.wantSummary)
				}
				all.WriteString(d.Detail() + "\n")
				p := ""
				if wp, ok := d.(diag.DiagnosticWithPath); ok {
					p = wp.Path().String()
				}
				paths = append(paths, p)
			}
			for _, want := range tc.wantDetail {
				if !strings.Contains(all.String(), want) {
					t.Errorf("details lack %q:\n%s", want, all.String())
				}
			}
			for _, bad := range tc.notInDetail {
				if strings.Contains(all.String(), bad) {
					t.Errorf("details contain %q:\n%s", bad, all.String())
				}
			}
			if tc.wantPaths != nil && fmt.Sprint(paths) != fmt.Sprint(tc.wantPaths) {
				t.Errorf("paths %v, want %v", paths, tc.wantPaths)
			}
		})
	}
}
