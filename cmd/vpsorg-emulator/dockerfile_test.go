package main

import (
	"bufio"
	"debug/elf"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

// image is what the Dockerfile tells a container runtime.
type image struct {
	from, user  string
	copyTo      string
	entrypoint  []string
	cmd         []string
	healthcheck []string
}

// readDockerfile parses the few instructions the image test needs; the
// JSON (exec) forms are required, since the image has no shell.
func readDockerfile(t *testing.T) image {
	t.Helper()
	f, err := os.Open("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var img image
	var lines []string
	sc := bufio.NewScanner(f)
	for cur := ""; sc.Scan(); {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "#") || line == "" {
			continue
		}
		if cont, ok := strings.CutSuffix(line, "\\"); ok {
			cur += cont + " "
			continue
		}
		lines, cur = append(lines, cur+line), ""
	}
	jsonArgs := func(s string) []string {
		var v []string
		if err := json.Unmarshal([]byte(s), &v); err != nil {
			t.Fatalf("%q is not an exec-form JSON array (the image has no shell): %v", s, err)
		}
		return v
	}
	for _, line := range lines {
		word, rest, _ := strings.Cut(line, " ")
		switch strings.ToUpper(word) {
		case "FROM":
			img.from = rest
		case "USER":
			img.user = rest
		case "COPY":
			fields := strings.Fields(rest)
			img.copyTo = fields[len(fields)-1]
		case "ENTRYPOINT":
			img.entrypoint = jsonArgs(rest)
		case "CMD":
			img.cmd = jsonArgs(rest)
		case "HEALTHCHECK":
			_, exec, ok := strings.Cut(rest, "CMD ")
			if !ok {
				t.Fatalf("HEALTHCHECK without CMD: %q", rest)
			}
			img.healthcheck = jsonArgs(exec)
		}
	}
	return img
}

// TestDockerfile_TheImageRunsTheStaticBinaryAsNonRootAndItsHealthCheckPasses
// runs the binary with the image's ENTRYPOINT and CMD, as the container
// would (there is no Docker daemon here), then the HEALTHCHECK command.
func TestDockerfile_TheImageRunsTheStaticBinaryAsNonRootAndItsHealthCheckPasses(t *testing.T) {
	img := readDockerfile(t)
	if !strings.Contains(img.from, "static") || !strings.Contains(img.from, "nonroot") {
		t.Errorf("FROM %q: want a small static non-root base", img.from)
	}
	if img.user == "" || img.user == "0" || strings.HasPrefix(img.user, "root") || strings.HasPrefix(img.user, "0:") {
		t.Errorf("USER %q: the image must not run as root", img.user)
	}
	if len(img.entrypoint) != 1 || img.entrypoint[0] != img.copyTo || img.healthcheck[0] != img.copyTo {
		t.Fatalf("ENTRYPOINT %v and HEALTHCHECK %v must run the binary COPY puts at %s", img.entrypoint, img.healthcheck, img.copyTo)
	}
	bin := emulatorBinary(t)
	if ef, err := elf.Open(bin); err != nil {
		t.Fatal(err)
	} else {
		for _, p := range ef.Progs {
			if p.Type == elf.PT_INTERP {
				t.Errorf("the binary is dynamically linked; the image has no C library")
			}
		}
		ef.Close()
	}

	// The image's files live in /tmp, as there; clear what a run left.
	addressFile := argAfter(t, img.cmd, "-address-file")
	caFile := argAfter(t, img.cmd, "-tls-ca-file")
	os.Remove(addressFile)
	health := func() (string, error) {
		out, err := exec.Command(bin, img.healthcheck[1:]...).CombinedOutput()
		return string(out), err
	}
	if out, err := health(); err == nil {
		t.Fatalf("the health check passed before the emulator ran: %s", out)
	}
	server := exec.Command(bin, img.cmd...)
	var stdout lockedBuffer
	server.Stdout, server.Stderr = &stdout, &stdout
	if err := server.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = server.Process.Kill(); _, _ = server.Process.Wait() }()
	// As the runtime does: try the health check until it passes, bounded
	// like --start-period and --retries.
	var out string
	var err error
	for try := 0; try < 50; try++ {
		if out, err = health(); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("the health check never passed: %v %s\nemulator: %s", err, out, stdout.String())
	}
	if !regexp.MustCompile(`listening on https://127\.0\.0\.1:8443/api/v1/`).MatchString(stdout.String()) {
		t.Errorf("banner: %s", stdout.String())
	}
	// A job in another container reaches it by the service's name, over
	// https, trusting the CA it fetched.
	client := clientTrusting(t, caFile)
	if code, body := request(t, client, "GET", "https://localhost:8443/_emulator/ca.pem", "", ""); code != 200 || !strings.Contains(body, "BEGIN CERTIFICATE") {
		t.Errorf("GET /_emulator/ca.pem: %d %q", code, body)
	}
	if code, _ := request(t, client, "GET", "https://localhost:8443/api/v1/servers/", "emulator-token", ""); code != http.StatusOK {
		t.Errorf("the API over https: %d", code)
	}
}

func argAfter(t *testing.T, args []string, flag string) string {
	t.Helper()
	for i, a := range args[:len(args)-1] {
		if a == flag {
			return args[i+1]
		}
	}
	t.Fatalf("CMD %v lacks %s", args, flag)
	return ""
}
