package provider

import (
	"context"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"

	"github.com/vpsorg/terraform-provider-vpsorg/internal/vpsorg"
)

// An endpoint that does not answer is a setting to fix: the error names
// it, where its value came from, and for an untrusted certificate ca_file,
// instead of only offering to skip the check.
func TestCheckCredentials_noAnswerNamesTheSettingToFix(t *testing.T) {
	closedPort := func(t *testing.T) string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close() // nothing listens there after: connections are refused
		return "http://" + ln.Addr().String() + "/api/v1/"
	}
	untrusted := func(t *testing.T) string {
		srv := httptest.NewTLSServer(http.NotFoundHandler())
		srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the failed handshakes
		t.Cleanup(srv.Close)
		return srv.URL + "/api/v1/"
	}
	silent := func(t *testing.T) string {
		srv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
		t.Cleanup(srv.Close)
		return srv.URL + "/api/v1/"
	}
	fromConfig := setting{from: "the endpoint argument of the provider block (which takes precedence over VPSORG_ENDPOINT)", path: path.Root("endpoint")}
	fromEnv := setting{from: "the VPSORG_ENDPOINT environment variable"}

	tests := []struct {
		name     string
		endpoint func(*testing.T) string
		from     setting
		want     []string
	}{
		{"connection refused", closedPort, fromConfig,
			[]string{"connection refused", "Nothing accepts connections at that host and port", "check the endpoint, set by " + fromConfig.from}},
		{"unknown host", func(*testing.T) string { return "https://vpsorg-test.invalid/api/v1/" }, fromEnv,
			[]string{`The host name "vpsorg-test.invalid" does not resolve`, "check the endpoint, set by the VPSORG_ENDPOINT environment variable"}},
		{"certificate signed by an unknown authority", untrusted, fromEnv,
			[]string{"certificate signed by unknown authority", "set ca_file in the provider block or the VPSORG_CA_FILE environment variable",
				"the endpoint, set by the VPSORG_ENDPOINT environment variable"}},
		{"no answer in time", silent, fromConfig,
			[]string{"did not answer in time", "check the endpoint, set by " + fromConfig.from}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client, err := vpsorg.New(vpsorg.Config{Endpoint: tt.endpoint(t), Token: "tok-5ecret", RetryMax: -1,
				HTTPClient: &http.Client{Timeout: 300 * time.Millisecond, Transport: http.DefaultTransport.(*http.Transport).Clone()}})
			if err != nil {
				t.Fatal(err)
			}
			var diags diag.Diagnostics
			checkCredentials(context.Background(), client, settings{endpoint: tt.from}, &diags)
			if len(diags) != 1 || diags.ErrorsCount() != 1 {
				t.Fatalf("diagnostics = %v, want one error", diags)
			}
			d := diags[0]
			flat := strings.Join(strings.Fields(d.Summary()+" "+d.Detail()), " ")
			if !strings.HasPrefix(d.Summary(), "Unable to reach the VPS.org API at ") {
				t.Errorf("summary = %q", d.Summary())
			}
			for _, want := range append(tt.want, "skip_credentials_validation") {
				if !strings.Contains(flat, want) {
					t.Errorf("the error lacks %q:\n%s", want, flat)
				}
			}
			if strings.Contains(flat, "tok-5ecret") {
				t.Error("the error shows the token")
			}
			if _, got := d.(diag.DiagnosticWithPath); got != (len(tt.from.path.Steps()) > 0) {
				t.Errorf("error on an attribute = %v, want %v (the endpoint set in the provider block)", got, !got)
			}
		})
	}
}

// Every operation that gets no answer says what to check too.
func TestAddError_noAnswerNamesTheEndpoint(t *testing.T) {
	err := &vpsorg.APIError{Operation: "get server 1", Method: "GET", Path: "/api/v1/servers/1/",
		Err: &net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "no such host", Name: "api.example.test", IsNotFound: true}}}
	var diags diag.Diagnostics
	addError(&diags, "Unable to read server 1", err, nil)
	flat := strings.Join(strings.Fields(diags[0].Detail()), " ")
	for _, want := range []string{`The host name "api.example.test" does not resolve`,
		"check the endpoint, set by the endpoint argument of the provider block or the VPSORG_ENDPOINT environment variable"} {
		if !strings.Contains(flat, want) {
			t.Errorf("the error lacks %q:\n%s", want, flat)
		}
	}
}
