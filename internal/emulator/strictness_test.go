package emulator

import (
	"net/http"
	"testing"
	"time"
)

func TestRateLimitHeaders_SayWhatIsLeftInEachFamily(t *testing.T) {
	// A limit of 4 requests/s with bursts of 8: after one request 7 are
	// left, and the bucket is whole again in a quarter of a second (shown
	// as 1s, rounded up); the whole bucket refills in 2s.
	cases := []struct {
		family string
		want   map[string]string
	}{
		{RateLimitHeadersFields, map[string]string{"RateLimit-Limit": "8", "RateLimit-Remaining": "7", "RateLimit-Reset": "1"}},
		{RateLimitHeadersDraft, map[string]string{"RateLimit-Policy": `"default";q=8;w=2`, "RateLimit": `"default";r=7;t=1`}},
		{RateLimitHeadersX, map[string]string{"X-RateLimit-Limit": "8", "X-RateLimit-Remaining": "7", "X-RateLimit-Reset": "1737041401"}},
	}
	for _, c := range cases {
		t.Run(c.family, func(t *testing.T) {
			h := newHarness(t, Options{RateLimitHeaders: c.family})
			h.emu.SetRateLimit(4, 8)
			r := h.do(http.MethodGet, "/api/v1/servers/", nil)
			for name, want := range c.want {
				if got := r.header.Get(name); got != want {
					t.Errorf("%s: %q, want %q", name, got, want)
				}
			}
		})
	}
}

func TestRateLimitHeaders_ComeWithA429Too(t *testing.T) {
	h := newHarness(t, Options{RateLimitHeaders: RateLimitHeadersFields})
	h.emu.SetRateLimit(1, 1)
	h.do(http.MethodGet, "/api/v1/servers/", nil)
	r := h.do(http.MethodGet, "/api/v1/servers/", nil)
	if r.status != http.StatusTooManyRequests || r.header.Get("RateLimit-Remaining") != "0" || r.header.Get("RateLimit-Reset") != "1" {
		t.Errorf("%d with RateLimit-Remaining %q, -Reset %q; want 429, 0, 1", r.status, r.header.Get("RateLimit-Remaining"), r.header.Get("RateLimit-Reset"))
	}
	h.clock.Advance(time.Second)
	if r := h.do(http.MethodGet, "/api/v1/servers/", nil); r.status != http.StatusOK {
		t.Errorf("after the reset: %d, want 200", r.status)
	}
}

func TestRateLimitHeaders_NoneWithoutTheOptionOrTheLimit(t *testing.T) {
	for _, h := range []*harness{newHarness(t, Options{}), newHarness(t, Options{RateLimitHeaders: RateLimitHeadersFields})} {
		if h.emu.rateLimitHeaders == "" {
			h.emu.SetRateLimit(4, 8)
		}
		r := h.do(http.MethodGet, "/api/v1/servers/", nil)
		for _, name := range []string{"RateLimit-Limit", "RateLimit", "X-RateLimit-Limit"} {
			if v := r.header.Get(name); v != "" {
				t.Errorf("%s: %q; the documented API sends none", name, v)
			}
		}
	}
}

func TestStrictFilters_RefuseOnlyUndocumentedStatusValues(t *testing.T) {
	h := newHarness(t, Options{StrictFilters: true})
	for query, want := range map[string]int{
		"": http.StatusOK, "?status=active": http.StatusOK, "?status=stopped": http.StatusOK, "?status=suspended": http.StatusOK,
		"?status=provisioning": http.StatusBadRequest, "?status=rebooting": http.StatusBadRequest,
	} {
		if r := h.do(http.MethodGet, "/api/v1/servers/"+query, nil); r.status != want {
			t.Errorf("GET servers/%s: %s, want %d", query, r, want)
		}
	}
	if r := newHarness(t, Options{}).do(http.MethodGet, "/api/v1/servers/?status=provisioning", nil); r.status != http.StatusOK {
		t.Errorf("without StrictFilters, an undocumented value: %s, want 200", r)
	}
}
