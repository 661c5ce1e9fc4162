package vpsorg

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// partialJSON is a detail answer as an API sends it during maintenance:
// no plan, os or location.
const partialJSON = `{"id": 12345, "name": "web-server-01", "status": "active", "created_at": "2025-01-10T14:30:00Z"}`

func TestGetServer_APartialAnswerIsRetriedNeverBelieved(t *testing.T) {
	rec := &recorder{replies: []reply{{status: 200, body: partialJSON}, {status: 200, body: detailJSON}}}
	c, _ := newTestClient(t, rec)
	s, err := c.GetServer(context.Background(), 12345)
	if err != nil {
		t.Fatalf("GetServer: %v", err)
	}
	if s.Plan.ID != 1 || s.OS.ID != 5 || s.Location != "us-west" {
		t.Errorf("got plan %d, os %d, location %q: a partial answer was believed", s.Plan.ID, s.OS.ID, s.Location)
	}
	if n := len(rec.requests()); n != 2 {
		t.Errorf("%d GETs, want 2 (the partial answer retried once)", n)
	}
}

func TestGetServer_OnlyPartialAnswersFailNamingTheMissingFields(t *testing.T) {
	rec := &recorder{replies: []reply{{status: 200, body: partialJSON}}}
	c, _ := newTestClient(t, rec)
	_, err := c.GetServer(context.Background(), 12345)
	if err == nil || !strings.Contains(err.Error(), "lacks plan.id, os.id, location") {
		t.Fatalf("error = %v, want one naming plan.id, os.id and location", err)
	}
	if !isIncomplete(err) {
		t.Errorf("error %v is not an *IncompleteServerError", err)
	}
}

func TestCreateServer_APartialAnswerIsAnAmbiguousCreateSentOnce(t *testing.T) {
	rec := &recorder{replies: []reply{{status: 201, body: `{"id": 12347, "status": "provisioning"}`}}}
	c, _ := newTestClient(t, rec)
	_, err := c.CreateServer(context.Background(), CreateServerRequest{Name: "web", PlanID: 1, OSID: 5, Location: "us-west"})
	if err == nil || !MayHaveActed(err) {
		t.Fatalf("error = %v, MayHaveActed = %v; want an error that may have acted", err, MayHaveActed(err))
	}
	if n := len(rec.requests()); n != 1 {
		t.Errorf("the create was sent %d times, want once", n)
	}
}

func TestListServers_AnItemWithoutIDIsAnErrorNotServer0(t *testing.T) {
	rec := &recorder{replies: []reply{{status: 200, body: `{"count": 1, "next": null, "results": [` +
		whole(`{"id": 1}`) + `, {"name": "ghost", "status": "active"}]}`}}}
	c, _ := newTestClient(t, rec, func(cfg *Config) { cfg.RetryMax = -1 })
	servers, err := c.ListServers(context.Background(), ListServersOptions{})
	if err == nil || !strings.Contains(err.Error(), "list item 1") || !strings.Contains(err.Error(), "lacks id") {
		t.Fatalf("servers %+v, error = %v; want an error naming item 1 and its missing id", servers, err)
	}
}

// A redirect to another port, from https down to http, or to a subdomain
// is one net/http would follow with the token: none is followed. target
// counts the tokens it receives.
func TestRedirects_AreNeverFollowedWithTheToken(t *testing.T) {
	var tokens atomic.Int64
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			tokens.Add(1)
		}
		fmt.Fprint(w, detailJSON)
	}))
	t.Cleanup(target.Close)
	_, port, _ := net.SplitHostPort(target.Listener.Addr().String())
	redirector := func(location string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, location+r.URL.Path, http.StatusFound)
		})
	}
	// Every host name resolves to the loopback, so that a subdomain
	// redirect would reach target if it were followed.
	dialer := &net.Dialer{}
	loopback := func(ctx context.Context, network, addr string) (net.Conn, error) {
		_, p, _ := net.SplitHostPort(addr)
		return dialer.DialContext(ctx, network, net.JoinHostPort("127.0.0.1", p))
	}

	t.Run("same host, another port", func(t *testing.T) {
		c, _ := newTestClient(t, redirector(target.URL))
		checkRedirectRefused(t, c, target.URL, &tokens)
	})
	t.Run("https down to http", func(t *testing.T) {
		src := httptest.NewTLSServer(redirector(target.URL))
		t.Cleanup(src.Close)
		hc := src.Client()
		c, err := New(Config{Endpoint: src.URL + "/api/v1/", Token: testToken, HTTPClient: hc, RetryMax: -1})
		if err != nil {
			t.Fatal(err)
		}
		checkRedirectRefused(t, c, target.URL, &tokens)
	})
	t.Run("a subdomain", func(t *testing.T) {
		src := httptest.NewServer(redirector("http://api.vps.test:" + port))
		t.Cleanup(src.Close)
		_, srcPort, _ := net.SplitHostPort(src.Listener.Addr().String())
		hc := &http.Client{Transport: &http.Transport{DialContext: loopback, TLSClientConfig: &tls.Config{}}}
		c, err := New(Config{Endpoint: "http://vps.test:" + srcPort + "/api/v1/", Token: testToken, HTTPClient: hc, RetryMax: -1})
		if err != nil {
			t.Fatal(err)
		}
		checkRedirectRefused(t, c, "http://api.vps.test:"+port, &tokens)
	})
	// A 303 to a create says it was carried out, its result elsewhere (RFC
	// 9110, 15.4.4): a create that may have acted, sent once, not followed.
	t.Run("a create answered 303 See Other", func(t *testing.T) {
		rec := &recorder{replies: []reply{{status: 303, header: map[string]string{"Location": target.URL + "/api/v1/servers/12347/"}}}}
		c, _ := newTestClient(t, rec)
		_, err := c.CreateServer(context.Background(), CreateServerRequest{Name: "web-server-02", PlanID: 1, OSID: 5, Location: "us-west"})
		if err == nil || !strings.Contains(err.Error(), "HTTP 303") || !strings.Contains(err.Error(), target.URL+"/api/v1/servers/12347/") {
			t.Fatalf("error = %v, want one naming the 303 and its Location", err)
		}
		if !MayHaveActed(err) {
			t.Error("MayHaveActed = false: a create answered 303 was carried out, and must be looked for")
		}
		if n := len(rec.requests()); n != 1 {
			t.Errorf("the create was sent %d times, want once", n)
		}
		if n := tokens.Load(); n != 0 {
			t.Errorf("the redirect's target saw the token %d times", n)
		}
	})
	t.Run("a PATCH is not turned into a GET", func(t *testing.T) {
		c, _ := newTestClient(t, redirector(target.URL))
		name := "x"
		_, err := c.UpdateServer(context.Background(), 12345, UpdateServerRequest{Name: &name})
		if err == nil || !strings.Contains(err.Error(), "HTTP 302") {
			t.Errorf("error = %v, want the 302", err)
		}
		if n := tokens.Load(); n != 0 {
			t.Errorf("the redirect's target saw the token %d times", n)
		}
	})
}

func checkRedirectRefused(t *testing.T, c *Client, location string, tokens *atomic.Int64) {
	t.Helper()
	_, err := c.GetServer(context.Background(), 12345)
	if err == nil || !strings.Contains(err.Error(), "HTTP 302") || !strings.Contains(err.Error(), "redirect to "+location+"/api/v1/servers/12345/") {
		t.Errorf("error = %v, want one naming the 302 and its Location", err)
	}
	if n := tokens.Load(); n != 0 {
		t.Errorf("the redirect's target saw the token %d times", n)
	}
}

func TestClock_TheOffsetIsLearnedFromTheDateHeader(t *testing.T) {
	for _, offset := range []time.Duration{-20 * time.Second, 3 * time.Minute} {
		t.Run(offset.String(), func(t *testing.T) {
			c, _ := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Date", time.Now().Add(offset).UTC().Format(http.TimeFormat))
				fmt.Fprint(w, detailJSON)
			}))
			if _, ok := c.ClockOffset(); ok {
				t.Fatal("an offset is known before any answer")
			}
			if _, err := c.GetServer(context.Background(), 12345); err != nil {
				t.Fatal(err)
			}
			got, ok := c.ClockOffset()
			if !ok || (got-offset).Abs() > time.Second {
				t.Errorf("offset = %v (known %v), want %v within a second", got, ok, offset)
			}
			now := time.Now()
			if d := c.APITime(now).Sub(now.Add(offset)).Abs(); d > time.Second {
				t.Errorf("APITime is %v off the API's clock", d)
			}
		})
	}
}

func TestListServers_ALinkThatDiffersOnlyByItsFragmentIsALoop(t *testing.T) {
	var n atomic.Int64
	c, _ := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"count": 1, "next": "?page=2#%d", "results": [%s]}`, n.Add(1), whole(`{"id": 1}`))
	}))
	_, err := c.ListServers(context.Background(), ListServersOptions{})
	if err == nil || !strings.Contains(err.Error(), "pagination loop") {
		t.Fatalf("error = %v, want a pagination loop", err)
	}
	if got := n.Load(); got != 2 {
		t.Errorf("%d pages fetched, want 2", got)
	}
}

func TestListServers_StopsPastThePageBound(t *testing.T) {
	var n atomic.Int64
	c, _ := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"count": 1, "next": "?page=%d", "results": [%s]}`, n.Add(1)+1, whole(`{"id": 1}`))
	}))
	c.maxListPages = 5
	_, err := c.ListServers(context.Background(), ListServersOptions{})
	if err == nil || !strings.Contains(err.Error(), "more than 5 pages") {
		t.Fatalf("error = %v, want the page bound", err)
	}
	if got := n.Load(); got != 5 {
		t.Errorf("%d pages fetched, want 5", got)
	}
}

func TestConfirmGone_BelievesA404OnlyWhenTheEndpointAnswersLikeTheAPI(t *testing.T) {
	tests := []struct {
		name     string
		get      reply // the 404 for the server
		list     reply
		wantGone bool
		wantErr  string
	}{
		{"the API's 404, the list answers", reply{status: 404, body: `{"detail": "Not found."}`}, reply{status: 200, body: listJSON}, true, ""},
		{"a proxy's HTML 404", reply{status: 404, body: `<html><body>404 Not Found</body></html>`}, reply{status: 200, body: listJSON}, false, "body is not the API's JSON"},
		{"a wrong base path: the list 404s too", reply{status: 404, body: `{"detail": "Not found."}`}, reply{status: 404, body: `{"detail": "Not found."}`}, false, "servers list of the same endpoint"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, srv := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				re := tt.get
				if r.URL.Path == "/api/v1/servers/" {
					re = tt.list
				}
				w.WriteHeader(re.status)
				fmt.Fprint(w, re.body)
			}))
			_, err := c.GetServer(context.Background(), 12345)
			if err == nil {
				t.Fatal("GetServer succeeded")
			}
			err = c.ConfirmGone(context.Background(), 12345, err)
			if tt.wantGone {
				if err != nil {
					t.Errorf("ConfirmGone = %v, want nil", err)
				}
				return
			}
			var unproven *UnprovenNotFoundError
			if !errors.As(err, &unproven) || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), srv.URL+"/api/v1/") {
				t.Errorf("ConfirmGone = %v, want an *UnprovenNotFoundError saying %q and naming the endpoint", err, tt.wantErr)
			}
		})
	}
}

// A reboot on an API whose clock is two minutes behind ours: its new
// updated_at, by the API's clock, is evidence once Since is moved onto that
// clock. Compared with our own clock it looked two minutes old, and the
// wait could only end on its grace period.
func TestWaitForStatus_RebootEvidenceIsReadOnTheAPIsClock(t *testing.T) {
	const skew = -2 * time.Minute
	before := "2025-01-16T15:45:00Z"
	var gets atomic.Int64
	c, _ := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		apiNow := time.Now().Add(skew).UTC()
		w.Header().Set("Date", apiNow.Format(http.TimeFormat))
		updated := before
		if gets.Add(1) > 1 { // the reboot, done by the second look
			updated = apiNow.Truncate(time.Second).Format(time.RFC3339)
		}
		fmt.Fprint(w, whole(fmt.Sprintf(`{"id": 12345, "status": "active", "updated_at": %q}`, updated)))
	}))
	if _, err := c.GetServer(context.Background(), 12345); err != nil { // the read before the action
		t.Fatal(err)
	}
	var warned atomic.Int64
	c.warnf = func(context.Context, string, map[string]any) { warned.Add(1) }
	spec := WaitSpec{Target: []string{StatusActive}, Pending: []string{StatusRebooting},
		Since: time.Now(), UpdatedBefore: before, Grace: time.Hour}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := c.WaitForStatus(ctx, 12345, spec); err != nil {
		t.Fatalf("the wait did not take the new updated_at for evidence: %v", err)
	}
	if n := warned.Load(); n != 0 {
		t.Errorf("%d grace warnings; the evidence was there", n)
	}
}
