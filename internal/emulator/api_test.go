package emulator

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

var (
	listItemKeys = []string{"id", "name", "hostname", "status", "ip_address", "location", "plan", "os", "created_at", "updated_at"}
	detailKeys   = []string{"id", "name", "hostname", "status", "ip_address", "ipv6_address", "location", "plan", "os",
		"backups_enabled", "resource_usage", "created_at", "updated_at"}
	createKeys = []string{"id", "name", "hostname", "status", "ip_address", "location", "plan", "os",
		"backups_enabled", "created_at", "updated_at", "message"}
	briefPlanKeys  = []string{"id", "name", "vcpus", "memory", "storage"}
	detailPlanKeys = []string{"id", "name", "vcpus", "memory", "storage", "bandwidth"}
	osKeys         = []string{"id", "name"}
	usageKeys      = []string{"cpu_percent", "memory_used", "disk_used", "bandwidth_used"}
	timestampRE    = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`)
)

func TestCreate_AnswersLikeTheVendorExample(t *testing.T) {
	h := newHarness(t, Options{})
	r := h.do("POST", "/api/v1/servers/", validCreate("web-server-02"))
	if r.status != http.StatusCreated {
		t.Fatalf("want 201, got %s", r)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	assertKeys(t, "create answer", r.body, createKeys...)
	assertKeys(t, "create plan", r.body["plan"], briefPlanKeys...)
	assertKeys(t, "create os", r.body["os"], osKeys...)
	want := map[string]any{
		"id":              float64(12345),
		"name":            "web-server-02",
		"hostname":        "web-server-02.example.com",
		"status":          "provisioning",
		"ip_address":      nil,
		"location":        "us-west",
		"backups_enabled": true,
		"created_at":      "2025-01-16T15:30:00Z",
		"updated_at":      "2025-01-16T15:30:00Z",
		"message":         "Server is being provisioned. This may take 2-5 minutes.",
	}
	for k, v := range want {
		if r.body[k] != v {
			t.Errorf("%s = %#v, want %#v", k, r.body[k], v)
		}
	}
	plan := r.body["plan"].(map[string]any)
	if plan["id"] != float64(1) || plan["name"] != "Standard VPS" || plan["vcpus"] != float64(2) ||
		plan["memory"] != float64(4096) || plan["storage"] != float64(80) {
		t.Errorf("plan = %v", plan)
	}
	if os := r.body["os"].(map[string]any); os["id"] != float64(5) || os["name"] != "Ubuntu 22.04 LTS" {
		t.Errorf("os = %v", os)
	}
}

func TestCreate_WithoutHostnameOrBackupsDefaultsToNullAndFalse(t *testing.T) {
	h := newHarness(t, Options{})
	r := h.do("POST", "/api/v1/servers/", map[string]any{"name": "a", "plan_id": 2, "os_id": 3, "location": "us-east"})
	if r.status != http.StatusCreated {
		t.Fatalf("want 201, got %s", r)
	}
	if _, ok := r.body["hostname"]; !ok || r.body["hostname"] != nil {
		t.Errorf("hostname = %#v, want present and null", r.body["hostname"])
	}
	if r.body["backups_enabled"] != false {
		t.Errorf("backups_enabled = %#v, want false", r.body["backups_enabled"])
	}
}

func TestCreate_IgnoresUnknownFieldsAndKeepsSSHKey(t *testing.T) {
	h := newHarness(t, Options{})
	body := validCreate("web")
	body["ssh_key_id"] = 42
	body["colour"] = "blue"
	id := h.createAs(aliceToken, body)
	s, _ := h.emu.Server(id)
	if s.SSHKeyID == nil || *s.SSHKeyID != 42 {
		t.Errorf("SSHKeyID = %v, want 42", s.SSHKeyID)
	}
}

func TestGet_AnswersTheFullServerObject(t *testing.T) {
	h := newHarness(t, Options{})
	id := h.createActive("web-server-01")
	r := h.do("GET", serverPath(id, ""), nil)
	if r.status != http.StatusOK {
		t.Fatalf("want 200, got %s", r)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	assertKeys(t, "detail", r.body, detailKeys...)
	assertKeys(t, "detail plan", r.body["plan"], detailPlanKeys...)
	assertKeys(t, "detail os", r.body["os"], osKeys...)
	assertKeys(t, "resource_usage", r.body["resource_usage"], usageKeys...)
	if r.body["plan"].(map[string]any)["bandwidth"] != float64(2048) {
		t.Errorf("plan = %v", r.body["plan"])
	}
	if r.body["status"] != "active" || r.body["ip_address"] != "203.0.113.1" || r.body["ipv6_address"] != "2001:db8::3039" {
		t.Errorf("status/addresses = %v %v %v", r.body["status"], r.body["ip_address"], r.body["ipv6_address"])
	}
	for _, k := range []string{"created_at", "updated_at"} {
		if s, _ := r.body[k].(string); !timestampRE.MatchString(s) {
			t.Errorf("%s = %q, want RFC 3339 UTC with seconds", k, s)
		}
	}
	if r.body["updated_at"] != "2025-01-16T15:30:05Z" {
		t.Errorf("updated_at = %v, want the time provisioning completed", r.body["updated_at"])
	}
}

func TestList_ItemsHaveTheListShape(t *testing.T) {
	h := newHarness(t, Options{})
	h.createActive("a")
	r := h.do("GET", "/api/v1/servers/", nil)
	if r.status != http.StatusOK {
		t.Fatalf("want 200, got %s", r)
	}
	assertKeys(t, "list page", r.body, "count", "next", "previous", "results")
	results := r.body["results"].([]any)
	if len(results) != 1 || r.body["count"] != float64(1) || r.body["next"] != nil || r.body["previous"] != nil {
		t.Fatalf("page = %s", r)
	}
	assertKeys(t, "list item", results[0], listItemKeys...)
	assertKeys(t, "list plan", results[0].(map[string]any)["plan"], briefPlanKeys...)
	assertKeys(t, "list os", results[0].(map[string]any)["os"], osKeys...)
}

func TestList_EmptyAccountAnswersAnEmptyResultsArray(t *testing.T) {
	h := newHarness(t, Options{})
	r := h.do("GET", "/api/v1/servers/", nil)
	if r.status != http.StatusOK || string(r.raw) != `{"count":0,"next":null,"previous":null,"results":[]}` {
		t.Fatalf("got %s", r)
	}
}

func TestActions_AnswerTheEnvelope(t *testing.T) {
	h := newHarness(t, Options{})
	id := h.createActive("web-server-01")
	steps := []struct {
		action, message, status string
	}{
		{"reboot", "Server is rebooting", "rebooting"},
		{"stop", "Server is stopping", "stopping"},
		{"start", "Server is starting", "starting"},
	}
	for _, step := range steps {
		r := h.do("POST", serverPath(id, step.action), nil)
		if r.status != http.StatusOK {
			t.Fatalf("%s: want 200, got %s", step.action, r)
		}
		assertKeys(t, step.action+" envelope", r.body, "status", "message", "server")
		assertKeys(t, step.action+" server", r.body["server"], "id", "name", "status")
		srv := r.body["server"].(map[string]any)
		if r.body["status"] != "success" || r.body["message"] != step.message ||
			srv["id"] != float64(id) || srv["name"] != "web-server-01" || srv["status"] != step.status {
			t.Errorf("%s: got %s", step.action, r)
		}
		h.clock.Advance(DefaultTransitionTime)
	}
}

func TestDelete_IsImmediateAndAnswers204WithoutBody(t *testing.T) {
	h := newHarness(t, Options{})
	id := h.create("doomed") // still provisioning: delete works in any status
	r := h.do("DELETE", serverPath(id, ""), nil)
	if r.status != http.StatusNoContent || len(r.raw) != 0 {
		t.Fatalf("want 204 and no body, got %s", r)
	}
	if r := h.do("GET", serverPath(id, ""), nil); r.status != http.StatusNotFound {
		t.Errorf("GET after delete: want 404, got %s", r)
	}
	if r := h.do("DELETE", serverPath(id, ""), nil); r.status != http.StatusNotFound {
		t.Errorf("second delete: want 404, got %s", r)
	}
}

func TestAuth_MissingOrWrongTokenAnswers401(t *testing.T) {
	h := newHarness(t, Options{})
	id := h.create("a")
	cases := []struct{ name, header string }{
		{"no header", ""},
		{"wrong token", "Bearer nope"},
		{"token prefix", "Bearer alice"},
		{"empty bearer", "Bearer "},
		{"other scheme", "Token " + aliceToken},
		{"bare token", aliceToken},
	}
	routes := []struct{ method, path string }{
		{"GET", "/api/v1/servers/"},
		{"POST", "/api/v1/servers/"},
		{"GET", serverPath(id, "")},
		{"DELETE", serverPath(id, "")},
		{"POST", serverPath(id, "stop")},
	}
	for _, c := range cases {
		for _, rt := range routes {
			t.Run(c.name+" "+rt.method+" "+rt.path, func(t *testing.T) {
				header := http.Header{}
				if c.header != "" {
					header.Set("Authorization", c.header)
				}
				r := h.doAs("", rt.method, rt.path, validCreate("x"), header)
				if r.status != http.StatusUnauthorized || r.body["detail"] != "Invalid or missing API token." {
					t.Errorf("got %s", r)
				}
			})
		}
	}
	if n := len(h.emu.Servers("alice")); n != 1 {
		t.Errorf("unauthorised requests changed state: %d servers", n)
	}
}

func TestAuth_SchemeIsCaseInsensitive(t *testing.T) {
	h := newHarness(t, Options{})
	r := h.doAs("", "GET", "/api/v1/servers/", nil, http.Header{"Authorization": {"bearer " + aliceToken}})
	if r.status != http.StatusOK {
		t.Errorf("got %s", r)
	}
}

func TestAccounts_SeeOnlyTheirOwnServers(t *testing.T) {
	h := newHarness(t, Options{})
	aliceID := h.createActive("alice-web")
	bobID := h.createAs(bobToken, validCreate("bob-web"))
	if bobID != aliceID+1 {
		t.Errorf("ids are global and increasing: alice %d, bob %d", aliceID, bobID)
	}
	for _, rt := range []struct {
		method, path string
		body         any
	}{
		{"GET", serverPath(aliceID, ""), nil},
		{"PUT", serverPath(aliceID, ""), map[string]any{"name": "x", "hostname": "x.example.com", "backups_enabled": false}},
		{"PATCH", serverPath(aliceID, ""), map[string]any{"name": "x"}},
		{"POST", serverPath(aliceID, "stop"), nil},
		{"POST", serverPath(aliceID, "reboot"), nil},
		{"DELETE", serverPath(aliceID, ""), nil},
	} {
		r := h.doAs(bobToken, rt.method, rt.path, rt.body, nil)
		if r.status != http.StatusNotFound || r.body["detail"] != "Not found." {
			t.Errorf("bob %s alice's server: want 404 like a missing one, got %s", rt.method, r)
		}
	}
	r := h.doAs(bobToken, "GET", "/api/v1/servers/", nil, nil)
	results := r.body["results"].([]any)
	if r.body["count"] != float64(1) || len(results) != 1 || results[0].(map[string]any)["id"] != float64(bobID) {
		t.Errorf("bob's list: %s", r)
	}
	if s, _ := h.emu.Server(aliceID); s.Name != "alice-web" || s.Status != "active" {
		t.Errorf("alice's server was changed by bob: %+v", s)
	}
}

func TestCredits_CreateBeyondThemAnswers402(t *testing.T) {
	h := newHarness(t, Options{Credits: 2})
	first := h.create("one")
	h.create("two")
	r := h.do("POST", "/api/v1/servers/", validCreate("three"))
	if r.status != http.StatusPaymentRequired || r.body["detail"] != "Insufficient credits." {
		t.Fatalf("want 402, got %s", r)
	}
	if r := h.doAs(bobToken, "POST", "/api/v1/servers/", validCreate("bobs"), nil); r.status != http.StatusCreated {
		t.Errorf("credits are per account: bob got %s", r)
	}
	h.do("DELETE", serverPath(first, ""), nil)
	if r := h.do("POST", "/api/v1/servers/", validCreate("three")); r.status != http.StatusCreated {
		t.Errorf("after a delete: want 201, got %s", r)
	}
	h.emu.SetCredits("bob", 0)
	if r := h.doAs(bobToken, "POST", "/api/v1/servers/", validCreate("more"), nil); r.status != http.StatusPaymentRequired {
		t.Errorf("SetCredits(bob, 0): want 402, got %s", r)
	}
}

func TestRouting_BadIDsAnswer404(t *testing.T) {
	h := newHarness(t, Options{})
	ids := []string{"abc", "-1", "0", "99999999999999999999", "9223372036854775808", "+12345", "1.5", "12345abc", "%20", "00"}
	for _, id := range ids {
		for _, rt := range []struct{ method, suffix string }{
			{"GET", ""}, {"PUT", ""}, {"PATCH", ""}, {"DELETE", ""},
			{"POST", "start/"}, {"POST", "stop/"}, {"POST", "reboot/"},
		} {
			path := "/api/v1/servers/" + id + "/" + rt.suffix
			r := h.do(rt.method, path, `{"name":"x"}`)
			if r.status != http.StatusNotFound || r.body["detail"] != "Not found." {
				t.Errorf("%s %s: want 404 JSON, got %s", rt.method, path, r)
			}
		}
	}
	if r := h.do("GET", "/api/v1/servers/9223372036854775807/", nil); r.status != http.StatusNotFound {
		t.Errorf("max int64 id: want 404, got %s", r)
	}
}

func TestRouting_UnknownPathsAnswer404JSON(t *testing.T) {
	h := newHarness(t, Options{})
	id := h.create("a")
	for _, path := range []string{
		"/", "/api/v1/", "/api/v1/servers", fmt.Sprintf("/api/v1/servers/%d", id),
		fmt.Sprintf("/api/v1/servers/%d/resize/", id), fmt.Sprintf("/api/v1/servers/%d/start", id),
		fmt.Sprintf("/api/v1/servers/%d/start/x/", id), "/api/v1/plans/", "/api/v2/servers/", "/api/v1/servers//",
	} {
		r := h.do("GET", path, nil)
		if r.status != http.StatusNotFound || r.body["detail"] != "Not found." {
			t.Errorf("GET %s: want 404 JSON, got %s", path, r)
		}
	}
}

func TestRouting_WrongMethodAnswers405WithAllow(t *testing.T) {
	h := newHarness(t, Options{})
	id := h.createActive("a")
	cases := []struct{ method, path, allow string }{
		{"DELETE", "/api/v1/servers/", "GET, POST"},
		{"PUT", "/api/v1/servers/", "GET, POST"},
		{"POST", serverPath(id, ""), "GET, PUT, PATCH, DELETE"},
		{"GET", serverPath(id, "start"), "POST"},
		{"DELETE", serverPath(id, "stop"), "POST"},
		{"PUT", serverPath(id, "reboot"), "POST"},
	}
	for _, c := range cases {
		r := h.do(c.method, c.path, nil)
		if r.status != http.StatusMethodNotAllowed || r.header.Get("Allow") != c.allow || r.body["detail"] == nil {
			t.Errorf("%s %s: want 405 Allow %q, got %s (Allow %q)", c.method, c.path, c.allow, r, r.header.Get("Allow"))
		}
	}
	if got := h.status(id); got != "active" {
		t.Errorf("a 405 changed the server: %s", got)
	}
}

func TestCreate_RejectsInvalidBodies(t *testing.T) {
	long := strings.Repeat("a", 64)
	label := strings.Repeat("b", 63)
	cases := []struct {
		name   string
		change func(map[string]any)
		fields []string
	}{
		{"missing name", func(b map[string]any) { delete(b, "name") }, []string{"name"}},
		{"null name", func(b map[string]any) { b["name"] = nil }, []string{"name"}},
		{"empty name", func(b map[string]any) { b["name"] = "" }, []string{"name"}},
		{"name of 65 chars", func(b map[string]any) { b["name"] = long + "a" }, []string{"name"}},
		{"name with underscore", func(b map[string]any) { b["name"] = "web_1" }, []string{"name"}},
		{"name with space", func(b map[string]any) { b["name"] = "web 1" }, []string{"name"}},
		{"name not ASCII", func(b map[string]any) { b["name"] = "wéb" }, []string{"name"}},
		{"name a number", func(b map[string]any) { b["name"] = 7 }, []string{"name"}},
		{"missing plan", func(b map[string]any) { delete(b, "plan_id") }, []string{"plan_id"}},
		{"unknown plan", func(b map[string]any) { b["plan_id"] = 9 }, []string{"plan_id"}},
		{"plan as string", func(b map[string]any) { b["plan_id"] = "1" }, []string{"plan_id"}},
		{"plan fractional", func(b map[string]any) { b["plan_id"] = 1.5 }, []string{"plan_id"}},
		{"missing os", func(b map[string]any) { delete(b, "os_id") }, []string{"os_id"}},
		{"unknown os", func(b map[string]any) { b["os_id"] = 2 }, []string{"os_id"}},
		{"os as bool", func(b map[string]any) { b["os_id"] = true }, []string{"os_id"}},
		{"missing location", func(b map[string]any) { delete(b, "location") }, []string{"location"}},
		{"unknown location", func(b map[string]any) { b["location"] = "mars-1" }, []string{"location"}},
		{"location as object", func(b map[string]any) { b["location"] = map[string]any{} }, []string{"location"}},
		{"hostname single label", func(b map[string]any) { b["hostname"] = "web" }, []string{"hostname"}},
		{"hostname trailing dot", func(b map[string]any) { b["hostname"] = "web.example.com." }, []string{"hostname"}},
		{"hostname empty label", func(b map[string]any) { b["hostname"] = "web..example.com" }, []string{"hostname"}},
		{"hostname label starts with hyphen", func(b map[string]any) { b["hostname"] = "-web.example.com" }, []string{"hostname"}},
		{"hostname label ends with hyphen", func(b map[string]any) { b["hostname"] = "web-.example.com" }, []string{"hostname"}},
		{"hostname label of 64", func(b map[string]any) { b["hostname"] = label + "b.example.com" }, []string{"hostname"}},
		{"hostname over 253", func(b map[string]any) { b["hostname"] = strings.Repeat(label+".", 4) + "com" }, []string{"hostname"}},
		{"hostname underscore", func(b map[string]any) { b["hostname"] = "w_b.example.com" }, []string{"hostname"}},
		{"hostname empty", func(b map[string]any) { b["hostname"] = "" }, []string{"hostname"}},
		{"hostname a number", func(b map[string]any) { b["hostname"] = 5 }, []string{"hostname"}},
		{"ssh key zero", func(b map[string]any) { b["ssh_key_id"] = 0 }, []string{"ssh_key_id"}},
		{"ssh key negative", func(b map[string]any) { b["ssh_key_id"] = -3 }, []string{"ssh_key_id"}},
		{"ssh key string", func(b map[string]any) { b["ssh_key_id"] = "3" }, []string{"ssh_key_id"}},
		{"backups as string", func(b map[string]any) { b["backups_enabled"] = "true" }, []string{"backups_enabled"}},
		{"backups as number", func(b map[string]any) { b["backups_enabled"] = 1 }, []string{"backups_enabled"}},
		{"everything missing", func(b map[string]any) { clear(b) }, []string{"name", "plan_id", "os_id", "location"}},
	}
	h := newHarness(t, Options{})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body := validCreate("web")
			c.change(body)
			fe := fieldErrorsOf(t, h.do("POST", "/api/v1/servers/", body))
			if got := strings.Join(keys(fe), ","); got != strings.Join(sorted(c.fields...), ",") {
				t.Errorf("error fields = %s, want %v (%v)", got, c.fields, fe)
			}
			for field, msgs := range fe {
				if list, ok := msgs.([]any); !ok || len(list) == 0 {
					t.Errorf("%s: want a list of messages, got %v", field, msgs)
				}
			}
		})
	}
	if n := len(h.emu.Servers("alice")); n != 0 {
		t.Errorf("invalid creates made %d servers", n)
	}
}

func TestCreate_AcceptsEdgeValues(t *testing.T) {
	cases := []struct {
		name   string
		change func(map[string]any)
	}{
		{"name of 64 chars", func(b map[string]any) { b["name"] = strings.Repeat("a", 64) }},
		{"name of 1 char", func(b map[string]any) { b["name"] = "a" }},
		{"name with hyphens and capitals", func(b map[string]any) { b["name"] = "Web-01-" }},
		{"hostname with 63-char label", func(b map[string]any) { b["hostname"] = strings.Repeat("x", 63) + ".example.com" }},
		{"hostname null", func(b map[string]any) { b["hostname"] = nil }},
		{"ssh key null", func(b map[string]any) { b["ssh_key_id"] = nil }},
		{"the other documented plan, os and location", func(b map[string]any) { b["plan_id"], b["os_id"], b["location"] = 2, 3, "us-east" }},
	}
	h := newHarness(t, Options{})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body := validCreate("web")
			c.change(body)
			if r := h.do("POST", "/api/v1/servers/", body); r.status != http.StatusCreated {
				t.Errorf("want 201, got %s", r)
			}
		})
	}
}

func TestCreate_MalformedOrOversizedBodies(t *testing.T) {
	h := newHarness(t, Options{})
	cases := []struct {
		name, body string
		status     int
		detail     string
	}{
		{"truncated JSON", `{"name": "a"`, 400, "Malformed JSON: "},
		{"trailing garbage", `{"name": "a"} x`, 400, "Malformed JSON: "},
		{"not JSON", `name=a`, 400, "Malformed JSON: "},
		{"array", `[1,2]`, 400, "Invalid parameters."},
		{"string", `"hello"`, 400, "Invalid parameters."},
		{"null", `null`, 400, "Invalid parameters."},
		{"empty body means no fields", ``, 400, "Invalid parameters."},
		{"over 64 KiB", `{"name":"` + strings.Repeat("a", 64<<10) + `"}`, 413, "Request body too large"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := h.do("POST", "/api/v1/servers/", c.body)
			detail, _ := r.body["detail"].(string)
			if r.status != c.status || !strings.HasPrefix(detail, c.detail) {
				t.Errorf("want %d %q..., got %s", c.status, c.detail, r)
			}
		})
	}
}

func TestPut_RequiresNameHostnameAndBackups(t *testing.T) {
	h := newHarness(t, Options{})
	id := h.createActive("web")
	full := map[string]any{"name": "web-updated", "hostname": "web-updated.example.com", "backups_enabled": false}
	for _, missing := range []string{"name", "hostname", "backups_enabled"} {
		t.Run("without "+missing, func(t *testing.T) {
			body := map[string]any{}
			for k, v := range full {
				if k != missing {
					body[k] = v
				}
			}
			fe := fieldErrorsOf(t, h.do("PUT", serverPath(id, ""), body))
			msgs, _ := fe[missing].([]any)
			if len(fe) != 1 || len(msgs) != 1 || msgs[0] != "This field is required." {
				t.Errorf("errors = %v", fe)
			}
		})
	}
	if s, _ := h.emu.Server(id); s.Name != "web" {
		t.Fatalf("a rejected PUT changed the server: %+v", s)
	}
	h.clock.Advance(time.Minute)
	r := h.do("PUT", serverPath(id, ""), full)
	if r.status != http.StatusOK {
		t.Fatalf("want 200, got %s", r)
	}
	assertKeys(t, "PUT answer", r.body, detailKeys...)
	if r.body["name"] != "web-updated" || r.body["hostname"] != "web-updated.example.com" || r.body["backups_enabled"] != false {
		t.Errorf("PUT answer = %s", r)
	}
	if r.body["updated_at"] != "2025-01-16T15:31:05Z" {
		t.Errorf("updated_at = %v, want the time of the PUT", r.body["updated_at"])
	}
	h.clock.Advance(time.Minute)
	if r := h.do("PUT", serverPath(id, ""), full); r.body["updated_at"] != "2025-01-16T15:31:05Z" {
		t.Errorf("a PUT that changes nothing bumped updated_at to %v", r.body["updated_at"])
	}
	if r := h.do("PUT", serverPath(id, ""), map[string]any{"name": "x", "hostname": nil, "backups_enabled": true}); r.status != 200 || r.body["hostname"] != nil {
		t.Errorf("PUT with null hostname clears it: got %s", r)
	}
}

func TestPatch_ChangesOnlyTheFieldsSent(t *testing.T) {
	h := newHarness(t, Options{})
	id := h.create("web") // provisioning: PUT and PATCH work in every status
	h.clock.Advance(2 * time.Second)
	r := h.do("PATCH", serverPath(id, ""), map[string]any{"name": "new-server-name", "plan_id": 2, "location": "us-east"})
	if r.status != http.StatusOK {
		t.Fatalf("want 200, got %s", r)
	}
	if r.body["status"] != "provisioning" || r.body["updated_at"] != "2025-01-16T15:30:02Z" {
		t.Errorf("a PATCH that renames bumps updated_at: %s", r)
	}
	assertKeys(t, "PATCH answer", r.body, detailKeys...)
	s, _ := h.emu.Server(id)
	if s.Name != "new-server-name" || s.Hostname == nil || *s.Hostname != "web.example.com" || !s.BackupsEnabled {
		t.Errorf("after PATCH name: %+v", s)
	}
	if s.PlanID != 1 || s.Location != "us-west" {
		t.Errorf("plan and location cannot change and are ignored: %+v", s)
	}
	if r := h.do("PATCH", serverPath(id, ""), map[string]any{"backups_enabled": false}); r.body["backups_enabled"] != false || r.body["name"] != "new-server-name" {
		t.Errorf("PATCH backups: %s", r)
	}
	if r := h.do("PATCH", serverPath(id, ""), map[string]any{"hostname": nil}); r.status != 200 || r.body["hostname"] != nil {
		t.Errorf("PATCH null hostname clears it: %s", r)
	}
	if r := h.do("PATCH", serverPath(id, ""), ``); r.status != http.StatusOK {
		t.Errorf("empty PATCH: want 200, got %s", r)
	}
	for _, c := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"name": nil}, "name"},
		{map[string]any{"name": "bad name"}, "name"},
		{map[string]any{"hostname": "nodots"}, "hostname"},
		{map[string]any{"hostname": 3}, "hostname"},
		{map[string]any{"backups_enabled": nil}, "backups_enabled"},
		{map[string]any{"backups_enabled": "yes"}, "backups_enabled"},
	} {
		fe := fieldErrorsOf(t, h.do("PATCH", serverPath(id, ""), c.body))
		if _, ok := fe[c.field]; !ok || len(fe) != 1 {
			t.Errorf("PATCH %v: errors = %v", c.body, fe)
		}
	}
	if r := h.do("PATCH", serverPath(id, ""), `{"name":`); r.status != 400 || !strings.HasPrefix(r.body["detail"].(string), "Malformed JSON: ") {
		t.Errorf("malformed PATCH: %s", r)
	}
	if r := h.do("PATCH", serverPath(id+100, ""), `{"name":`); r.status != http.StatusNotFound {
		t.Errorf("a missing server wins over a bad body: %s", r)
	}
}

func TestStart_ListensOnLoopbackAndServesTheAPI(t *testing.T) {
	emu, err := Start(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer emu.Close()
	if !regexp.MustCompile(`^http://127\.0\.0\.1:\d+/api/v1/$`).MatchString(emu.URL()) {
		t.Fatalf("URL() = %q", emu.URL())
	}
	req, _ := http.NewRequest("GET", emu.URL()+"servers/", nil)
	req.Header.Set("Authorization", "Bearer "+DefaultToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("default token: got %d", resp.StatusCode)
	}
	if got := emu.Requests(); len(got) != 1 || got[0].Account != DefaultAccount {
		t.Errorf("requests = %+v", got)
	}
	if err := emu.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := emu.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Error("still serving after Close")
	}
	if New(Options{}).URL() != "" {
		t.Error("URL of an emulator that is not listening should be empty")
	}
}

// The default catalog is the documented one, so that a configuration that
// works against the emulator assumes no more of a real account; the
// extended catalog is there only when asked for.
func TestCreate_CatalogIsTheDocumentedOneUnlessExtended(t *testing.T) {
	undocumented := map[string]func(map[string]any){
		"plan 3":              func(b map[string]any) { b["plan_id"] = 3 },
		"plan 4":              func(b map[string]any) { b["plan_id"] = 4 },
		"os 1":                func(b map[string]any) { b["os_id"] = 1 },
		"os 7":                func(b map[string]any) { b["os_id"] = 7 },
		"location eu-central": func(b map[string]any) { b["location"] = "eu-central" },
		"location ap-south":   func(b map[string]any) { b["location"] = "ap-south" },
	}
	documentedOnly := newHarness(t, Options{})
	withExtras := newHarness(t, Options{ExtendedCatalog: true})
	for name, change := range undocumented {
		t.Run(name, func(t *testing.T) {
			body := validCreate("web")
			change(body)
			if r := documentedOnly.do("POST", "/api/v1/servers/", body); r.status != http.StatusBadRequest {
				t.Errorf("default catalog: want 400 for an undocumented value, got %s", r)
			}
			if r := withExtras.do("POST", "/api/v1/servers/", body); r.status != http.StatusCreated {
				t.Errorf("extended catalog: want 201, got %s", r)
			}
		})
	}
	for _, c := range []struct {
		name string
		got  int
		want int
	}{
		{"documented plans", len(documentedOnly.emu.Plans()), 2},
		{"documented systems", len(documentedOnly.emu.OperatingSystems()), 2},
		{"documented locations", len(documentedOnly.emu.Locations()), 2},
		{"extended plans", len(withExtras.emu.Plans()), 4},
		{"extended locations", len(withExtras.emu.Locations()), 4},
	} {
		if c.got != c.want {
			t.Errorf("%s: %d, want %d", c.name, c.got, c.want)
		}
	}
	if r := documentedOnly.do("POST", "/api/v1/servers/", map[string]any{"name": "x", "plan_id": 2, "os_id": 3, "location": "mars"}); r.status != 400 ||
		!strings.Contains(string(r.raw), "us-west, us-east") || strings.Contains(string(r.raw), "eu-central") {
		t.Errorf("the refusal names only the documented locations: %s", r)
	}
}
