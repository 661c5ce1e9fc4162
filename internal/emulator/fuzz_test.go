package emulator

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// serveInProcess runs one request through ServeHTTP without a network.
func serveInProcess(t testing.TB, e *Emulator, method, target string, body []byte) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, target, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+DefaultToken)
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	return rec
}

func bodySeeds(f *testing.F) {
	for _, seed := range []string{
		`{"name":"web","plan_id":1,"os_id":5,"location":"us-west","hostname":"web.example.com","backups_enabled":true}`,
		`{"name":"web","plan_id":1,"os_id":5,"location":"us-west","ssh_key_id":9223372036854775807}`,
		`{"name":null,"hostname":null,"backups_enabled":null}`,
		`{"plan_id":1e400,"os_id":-9223372036854775809,"ssh_key_id":0.5}`,
		`{"name":"\ud800","hostname":"a.b"}`,
		`{"name":{"nested":[1,2,{"x":null}]}}`,
		`[]`, `null`, `"x"`, `12`, ``, `{`, `{"a":1}{"b":2}`, "\xff\xfe", `{"name":"web"`,
	} {
		f.Add([]byte(seed))
	}
}

func assertNoServerError(t *testing.T, rec *httptest.ResponseRecorder, body []byte) {
	t.Helper()
	if rec.Code >= 500 {
		t.Fatalf("status %d for body %q: %s", rec.Code, body, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); rec.Code != http.StatusNoContent && ct != "application/json" {
		t.Fatalf("Content-Type %q for body %q", ct, body)
	}
}

func FuzzCreateBody(f *testing.F) {
	bodySeeds(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		e := New(Options{})
		rec := serveInProcess(t, e, "POST", "/api/v1/servers/", body)
		assertNoServerError(t, rec, body)
		if rec.Code == http.StatusCreated && len(e.Servers(DefaultAccount)) != 1 {
			t.Fatalf("201 without a server for %q", body)
		}
	})
}

func FuzzPatchBody(f *testing.F) {
	bodySeeds(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		e := New(Options{})
		s, err := e.AddServer(DefaultAccount, ServerSpec{Name: "web", PlanID: 1, OSID: 5, Location: "us-west", Status: StatusActive})
		if err != nil {
			t.Fatal(err)
		}
		for _, method := range []string{"PATCH", "PUT"} {
			rec := serveInProcess(t, e, method, serverPath(s.ID, ""), body)
			assertNoServerError(t, rec, body)
		}
		after, _ := e.Server(s.ID)
		if checkName(after.Name) != "" || (after.Hostname != nil && checkHostname(*after.Hostname) != "") {
			t.Fatalf("body %q stored an invalid server: %+v", body, after)
		}
	})
}

func TestBadInputs_NeverAnswer5xx(t *testing.T) {
	e := New(Options{})
	s, _ := e.AddServer(DefaultAccount, ServerSpec{Name: "web", PlanID: 1, OSID: 5, Location: "us-west", Status: StatusActive})
	targets := []string{
		"/api/v1/servers/?page=%zz", "/api/v1/servers/?page=1&page=2", "/api/v1/servers/?status=%00&location=%ff",
		"/api/v1/servers/?page=-9223372036854775808", "/api/v1/servers/?page=2147483649",
		"/api/v1/servers/" + strings.Repeat("9", 400) + "/", "/api/v1/servers/%2F/", "/api/v1/servers/1/2/3/",
		"/api/v1/servers/../servers/", serverPath(s.ID, ""), serverPath(s.ID, "start"), serverPath(s.ID, "reboot"),
	}
	methods := []string{"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE", "BREW"}
	bodies := [][]byte{nil, []byte(`{"name":1e999}`), []byte(`{"name":"` + strings.Repeat("x", 70<<10) + `"}`), {0, 1, 2}}
	for _, target := range targets {
		for _, method := range methods {
			for _, body := range bodies {
				rec := serveInProcess(t, e, method, target, body)
				if rec.Code >= 500 {
					t.Errorf("%s %s (%d bytes): %d %s", method, target, len(body), rec.Code, rec.Body)
				}
			}
		}
	}
}
