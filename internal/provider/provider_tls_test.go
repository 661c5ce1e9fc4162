package provider

import (
	"encoding/pem"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/vpsorg/terraform-provider-vpsorg/internal/emulator"
	"github.com/vpsorg/terraform-provider-vpsorg/internal/vpsorg"
)

// An endpoint whose certificate comes from a private CA is trusted through
// ca_file or VPSORG_CA_FILE, and only then.
func TestProviderConfig_caFileTrustsAPrivateCA(t *testing.T) {
	srv := httptest.NewTLSServer(emulator.New(emulator.Options{Tokens: map[string]string{testToken: "default"}}))
	defer srv.Close()
	dir := t.TempDir()
	caFile := filepath.Join(dir, "ca.pem")
	pemData := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(caFile, pemData, 0o600); err != nil {
		t.Fatal(err)
	}
	notPEM := filepath.Join(dir, "not.pem")
	if err := os.WriteFile(notPEM, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, argument, environment string
		wantErr                     string
	}{
		{name: "argument", argument: fmt.Sprintf("ca_file = %q", caFile)},
		{name: "environment", environment: caFile},
		{name: "no bundle", wantErr: `(?s)certificate.*(unknown authority|not trusted|verify)`},
		{name: "missing file", argument: `ca_file = "/nonexistent/ca.pem"`, wantErr: `(?s)Unreadable CA bundle.*nonexistent`},
		{name: "not PEM", environment: notPEM, wantErr: `(?s)Invalid CA bundle.*VPSORG_CA_FILE.*BEGIN CERTIFICATE`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(envCAFile, tc.environment)
			p := &vpsorgProvider{version: "test", tune: func(cfg *vpsorg.Config) { fastPolling(cfg); cfg.RetryMax = -1 }}
			step := resource.TestStep{
				Config: fmt.Sprintf("provider \"vpsorg\" {\n  endpoint  = %q\n  api_token = %q\n  %s\n}\ndata \"vpsorg_servers\" \"all\" {}\n",
					srv.URL+"/api/v1/", testToken, tc.argument),
			}
			if tc.wantErr != "" {
				step.ExpectError = regexp.MustCompile(tc.wantErr)
			}
			unitTestWith(t, p, step)
		})
	}
}

// unitTestWith runs one step against the provider p.
func unitTestWith(t *testing.T, p *vpsorgProvider, step resource.TestStep) {
	t.Helper()
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: map[string]func() (tfprotov6.ProviderServer, error){
			"vpsorg": providerserver.NewProtocol6WithError(p),
		},
		Steps: []resource.TestStep{step},
	})
}
