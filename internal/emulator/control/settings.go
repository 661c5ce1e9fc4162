package control

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/vpsorg/terraform-provider-vpsorg/internal/emulator"
)

// Setting is one run-time setting of PATCH /_emulator/settings. Parse
// checks a value and returns what applying it does, so that a request
// with one bad value changes nothing.
type Setting struct {
	Name    string
	Doc     string
	Example string
	Parse   func(raw json.RawMessage) (func(*emulator.Emulator), error)
}

// Settings is the table of run-time settings. A new emulator manner is one
// entry: a name, a line of documentation, an example and a parser (the
// helpers below cover durations and numbers).
var Settings = []Setting{
	durationSetting("latency", "delay added to every API request", "50ms", (*emulator.Emulator).SetLatency),
	durationSetting("consistency_lag", "how long GET and the list show a server as it was before an action or a delete",
		"1s", (*emulator.Emulator).SetConsistencyLag),
	durationSetting("provisioning_time", "how long servers created from now on provision", "5s",
		(*emulator.Emulator).SetProvisioningTime),
	durationSetting("transition_time", "how long start, stop and reboot begun from now on last", "2s",
		(*emulator.Emulator).SetTransitionTime),
	{Name: "page_size", Doc: "servers per list page", Example: "50",
		Parse: func(raw json.RawMessage) (func(*emulator.Emulator), error) {
			var n int
			if err := json.Unmarshal(raw, &n); err != nil || n < 1 {
				return nil, fmt.Errorf("want an integer, at least 1")
			}
			return func(e *emulator.Emulator) { e.SetPageSize(n) }, nil
		}},
	{Name: "rate_limit", Doc: "requests per second per account and burst; per_second 0 removes the limit",
		Example: `{"per_second": 10, "burst": 10}`,
		Parse: func(raw json.RawMessage) (func(*emulator.Emulator), error) {
			var v struct {
				PerSecond float64 `json:"per_second"`
				Burst     int     `json:"burst"`
			}
			if err := strictUnmarshal(raw, &v); err != nil || v.PerSecond < 0 || math.IsInf(v.PerSecond, 0) {
				return nil, fmt.Errorf(`want {"per_second": number >= 0, "burst": integer}`)
			}
			return func(e *emulator.Emulator) { e.SetRateLimit(v.PerSecond, v.Burst) }, nil
		}},
	{Name: "credits", Doc: "how many servers an account may hold at once", Example: `{"account": "default", "credits": 3}`,
		Parse: func(raw json.RawMessage) (func(*emulator.Emulator), error) {
			var v struct {
				Account string `json:"account"`
				Credits int    `json:"credits"`
			}
			if err := strictUnmarshal(raw, &v); err != nil || v.Account == "" || v.Credits < 0 {
				return nil, fmt.Errorf(`want {"account": name, "credits": integer >= 0}`)
			}
			return func(e *emulator.Emulator) { e.SetCredits(v.Account, v.Credits) }, nil
		}},
	{Name: "fail_provisioning", Doc: `servers created from now on whose name matches this regular expression end provisioning in "error"; "" clears it`,
		Example: `"^broken-"`,
		Parse: func(raw json.RawMessage) (func(*emulator.Emulator), error) {
			var expr string
			if err := json.Unmarshal(raw, &expr); err != nil {
				return nil, fmt.Errorf("want a regular expression as a string")
			}
			if expr == "" {
				return func(e *emulator.Emulator) { e.FailProvisioning(nil) }, nil
			}
			re, err := regexp.Compile(expr)
			if err != nil {
				return nil, err
			}
			return func(e *emulator.Emulator) { e.FailProvisioning(re.MatchString) }, nil
		}},
	{Name: "chaos", Doc: "random faults: each request fails with probability rate, drawn from seed", Example: `{"rate": 0.1, "seed": 42}`,
		Parse: func(raw json.RawMessage) (func(*emulator.Emulator), error) {
			var v struct {
				Rate float64 `json:"rate"`
				Seed uint64  `json:"seed"`
			}
			if err := strictUnmarshal(raw, &v); err != nil || v.Rate < 0 || v.Rate > 1 {
				return nil, fmt.Errorf(`want {"rate": number from 0 to 1, "seed": integer >= 0}`)
			}
			return func(e *emulator.Emulator) { e.SetChaos(v.Rate, v.Seed) }, nil
		}},
	{Name: "manners", Doc: "real clouds' habits (create_lag, clock_offset, partial_every, unknown_status, redirect_to, " +
		"hostile_next, huge_errors, echo_headers, list_churn, as the flags of those names); the fields given change, the others stay",
		Example: `{"create_lag": "3s", "clock_offset": "-20s"}`, Parse: parseManners},
	{Name: "update_answers", Doc: "answers the documentation leaves open: PUT and PATCH answered {} (empty_update_answer), " +
		"a reboot that leaves updated_at alone (reboot_keeps_updated_at)",
		Example: `{"empty_update_answer": true, "reboot_keeps_updated_at": false}`,
		Parse: func(raw json.RawMessage) (func(*emulator.Emulator), error) {
			var v struct {
				Empty bool `json:"empty_update_answer"`
				Quiet bool `json:"reboot_keeps_updated_at"`
			}
			if err := strictUnmarshal(raw, &v); err != nil {
				return nil, fmt.Errorf(`want {"empty_update_answer": bool, "reboot_keeps_updated_at": bool}`)
			}
			return func(e *emulator.Emulator) { e.SetUpdateAnswers(v.Empty, v.Quiet) }, nil
		}},
	{Name: "strictness", Doc: "rate_limit_headers: under a rate limit, every answer says what is left of it (ratelimit, draft, " +
		`x-ratelimit, or "" for none); strict_filters: the list answers 400 to a status filter value the documentation does not name`,
		Example: `{"rate_limit_headers": "draft", "strict_filters": true}`,
		Parse: func(raw json.RawMessage) (func(*emulator.Emulator), error) {
			var v struct {
				Headers string `json:"rate_limit_headers"`
				Strict  bool   `json:"strict_filters"`
			}
			if err := strictUnmarshal(raw, &v); err != nil || !slices.Contains(emulator.RateLimitHeaderFamilies, v.Headers) {
				return nil, fmt.Errorf(`want {"rate_limit_headers": "ratelimit", "draft", "x-ratelimit" or "", "strict_filters": bool}`)
			}
			return func(e *emulator.Emulator) { e.SetStrictness(v.Headers, v.Strict) }, nil
		}},
}

// parseManners reads the manners setting: only the fields given change.
func parseManners(raw json.RawMessage) (func(*emulator.Emulator), error) {
	var v struct {
		CreateLag     *string `json:"create_lag"`
		ClockOffset   *string `json:"clock_offset"`
		PartialEvery  *int    `json:"partial_every"`
		UnknownStatus *string `json:"unknown_status"`
		RedirectTo    *string `json:"redirect_to"`
		HostileNext   *string `json:"hostile_next"`
		HugeErrors    *bool   `json:"huge_errors"`
		EchoHeaders   *bool   `json:"echo_headers"`
		ListChurn     *int    `json:"list_churn"`
	}
	if err := strictUnmarshal(raw, &v); err != nil {
		return nil, fmt.Errorf("want an object of manners: %w", err)
	}
	var createLag, offset *time.Duration
	for _, d := range []struct {
		name string
		raw  *string
		to   **time.Duration
		min  time.Duration
	}{{"create_lag", v.CreateLag, &createLag, 0}, {"clock_offset", v.ClockOffset, &offset, math.MinInt64}} {
		if d.raw == nil {
			continue
		}
		parsed, err := time.ParseDuration(*d.raw)
		if err != nil || parsed < d.min {
			return nil, fmt.Errorf(`%s: want a duration such as "3s"`, d.name)
		}
		*d.to = &parsed
	}
	if v.PartialEvery != nil && *v.PartialEvery < 0 {
		return nil, fmt.Errorf("partial_every: want an integer >= 0")
	}
	return func(e *emulator.Emulator) {
		m := e.Manners()
		setIf(&m.CreateLag, createLag)
		setIf(&m.ClockOffset, offset)
		setIf(&m.PartialEvery, v.PartialEvery)
		setIf(&m.UnknownStatus, v.UnknownStatus)
		setIf(&m.RedirectTo, v.RedirectTo)
		setIf(&m.HostileNext, v.HostileNext)
		setIf(&m.HugeErrors, v.HugeErrors)
		setIf(&m.EchoHeaders, v.EchoHeaders)
		setIf(&m.ListChurn, v.ListChurn)
		e.SetManners(m)
	}, nil
}

func setIf[T any](to *T, v *T) {
	if v != nil {
		*to = *v
	}
}

// durationSetting is a setting whose value is a Go duration string.
func durationSetting(name, doc, example string, set func(*emulator.Emulator, time.Duration)) Setting {
	return Setting{Name: name, Doc: doc + ` (a duration such as "` + example + `")`, Example: `"` + example + `"`,
		Parse: func(raw json.RawMessage) (func(*emulator.Emulator), error) {
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				return nil, fmt.Errorf(`want a duration string such as "%s"`, example)
			}
			d, err := time.ParseDuration(s)
			if err != nil || d < 0 {
				return nil, fmt.Errorf(`want a duration of 0 or more, such as "%s"`, example)
			}
			return func(e *emulator.Emulator) { set(e, d) }, nil
		}}
}

func findSetting(name string) (Setting, bool) {
	for _, s := range Settings {
		if s.Name == name {
			return s, true
		}
	}
	return Setting{}, false
}

// settingValues remembers the values last set through the control API, to
// show them back; the emulator's start-up values come from its flags.
type settingValues struct {
	mu     sync.Mutex
	values map[string]json.RawMessage
}

func newSettingValues() *settingValues { return &settingValues{values: map[string]json.RawMessage{}} }

func (v *settingValues) forget(names ...string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, n := range names {
		delete(v.values, n)
	}
}

type settingView struct {
	Name    string          `json:"name"`
	Doc     string          `json:"doc"`
	Example json.RawMessage `json:"example"`
	Value   json.RawMessage `json:"value,omitempty"`
}

func (h *Handler) getSettings(w http.ResponseWriter, _ *http.Request) {
	h.set.mu.Lock()
	defer h.set.mu.Unlock()
	out := []settingView{}
	for _, s := range Settings {
		out = append(out, settingView{Name: s.Name, Doc: s.Doc, Example: json.RawMessage(s.Example), Value: h.set.values[s.Name]})
	}
	writeJSON(w, http.StatusOK, out)
}

// patchSettings applies every setting of the body, or none when one is
// unknown or bad.
func (h *Handler) patchSettings(w http.ResponseWriter, r *http.Request) {
	var body map[string]json.RawMessage
	if !readJSON(w, r, &body) {
		return
	}
	names := make([]string, 0, len(body))
	for name := range body {
		names = append(names, name)
	}
	sort.Strings(names)
	var apply []func(*emulator.Emulator)
	var problems []string
	for _, name := range names {
		s, ok := findSetting(name)
		if !ok {
			problems = append(problems, fmt.Sprintf("%s: no such setting (known: %s)", name, settingNames()))
			continue
		}
		f, err := s.Parse(body[name])
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", name, err))
			continue
		}
		apply = append(apply, f)
	}
	if len(problems) > 0 {
		writeError(w, http.StatusBadRequest, "Nothing changed: "+strings.Join(problems, "; ")+".")
		return
	}
	for _, f := range apply {
		f(h.emu)
	}
	h.set.mu.Lock()
	for _, name := range names {
		h.set.values[name] = body[name]
	}
	h.set.mu.Unlock()
	h.getSettings(w, r)
}

func settingNames() string {
	var names []string
	for _, s := range Settings {
		names = append(names, s.Name)
	}
	return strings.Join(names, ", ")
}
