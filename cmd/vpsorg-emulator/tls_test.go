package main

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// clientTrusting is an HTTP client that trusts only the CA in caFile.
func clientTrusting(t *testing.T, caFile string) *http.Client {
	t.Helper()
	pem, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatalf("%s holds no certificate", caFile)
	}
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
}

func TestBinary_TLSServesHTTPSWithACertificateFromTheCAItWrites(t *testing.T) {
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	p := startBinary(t, "-listen", "127.0.0.1:0", "-quiet", "-tls", "-tls-names", "localhost,127.0.0.1,emulator.test", "-tls-ca-file", caFile)
	if !strings.HasPrefix(p.url, "https://127.0.0.1:") {
		t.Fatalf("url %q, want https", p.url)
	}
	trusting := clientTrusting(t, caFile)
	if code, _ := request(t, trusting, "GET", p.url+"servers/", "emulator-token", ""); code != 200 {
		t.Errorf("over https trusting the CA: %d", code)
	}
	// By the name too: the certificate names localhost.
	byName := strings.Replace(p.url, "127.0.0.1", "localhost", 1)
	if code, _ := request(t, trusting, "GET", byName+"servers/", "emulator-token", ""); code != 200 {
		t.Errorf("at localhost: %d", code)
	}
	req, _ := http.NewRequest("GET", p.url+"servers/", nil)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Errorf("a client without the CA was answered %d", resp.StatusCode)
	} else if !strings.Contains(err.Error(), "certificate") {
		t.Errorf("without the CA: %v, want a certificate error", err)
	}
	if !strings.Contains(p.stdout.String(), "TLS: CA certificate in "+caFile) {
		t.Errorf("the banner does not name the CA file:\n%s", p.stdout)
	}
	pem, _ := os.ReadFile(caFile)
	if strings.Contains(string(pem), "PRIVATE KEY") {
		t.Error("the CA file holds a private key")
	}
}

func TestParseFlags_ServiceFlagsAreChecked(t *testing.T) {
	for args, want := range map[string]string{
		"-chaos 1.5":                 "-chaos 1.5",
		"-chaos-seed 3":              "-chaos-seed needs -chaos",
		"-tls-names a.example":       "need -tls",
		"-tls -tls-names ,":          "-tls-names must name",
		"-seed /nonexistent/seed.js": "seed",
		"-read-timeout 0s":           "-read-timeout, -write-timeout and -idle-timeout must be positive",
		"-idle-timeout -1s":          "-read-timeout, -write-timeout and -idle-timeout must be positive",
	} {
		if _, err := parseFlags(strings.Fields(args), &strings.Builder{}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want an error mentioning %q", args, err, want)
		}
	}
	cfg, err := parseFlags([]string{"-chaos", "0.1"}, &strings.Builder{})
	if err != nil || cfg.service.chaosSeed == 0 {
		t.Errorf("-chaos without a seed picks one: %v, seed %d", err, cfg.service.chaosSeed)
	}
}
