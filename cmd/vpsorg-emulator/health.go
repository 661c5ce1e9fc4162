package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
)

// The health subcommand checks a running emulator: the container image's
// HEALTHCHECK, which has no curl to call. It exits 0 when the emulator's
// health endpoint answers 200.
func healthCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("vpsorg-emulator health", flag.ContinueOnError)
	fs.SetOutput(stderr)
	endpoint := fs.String("url", "", "the API's URL (http[s]://HOST:PORT/api/v1/)")
	addressFile := fs.String("address-file", "", "read the API's URL from this file (what -address-file wrote)")
	caFile := fs.String("ca-file", "", "CA certificate (PEM) to trust, as -tls-ca-file wrote it")
	timeout := fs.Duration("timeout", 5*time.Second, "how long to wait for the answer")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if err := checkHealth(ctx, *endpoint, *addressFile, *caFile, *timeout); err != nil {
		fmt.Fprintln(stderr, "vpsorg-emulator health:", err)
		return 1
	}
	fmt.Fprintln(stdout, "ok")
	return 0
}

func checkHealth(ctx context.Context, endpoint, addressFile, caFile string, timeout time.Duration) error {
	if (endpoint == "") == (addressFile == "") {
		return errors.New("give one of -url and -address-file")
	}
	if addressFile != "" {
		data, err := os.ReadFile(addressFile)
		if err != nil {
			return fmt.Errorf("not ready: %w", err)
		}
		endpoint = strings.TrimSpace(string(data))
	}
	// No proxy: a health check asks the emulator beside it, never through one.
	transport := &http.Transport{}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return fmt.Errorf("%s holds no PEM certificate", caFile)
		}
		transport.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	url := strings.TrimSuffix(strings.TrimSuffix(endpoint, "/"), "/api/v1") + "/_emulator/health"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := (&http.Client{Transport: transport}).Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered %s", url, resp.Status)
	}
	return nil
}
