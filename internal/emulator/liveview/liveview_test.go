package liveview

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/vpsorg/terraform-provider-vpsorg/internal/emulator"
)

// clock is an emulator clock that moves only when told to.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// serve runs the API and the live view together, as the command does.
func serve(t *testing.T) (*clock, string) {
	t.Helper()
	c := &clock{now: time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)}
	emu := emulator.New(emulator.Options{Now: c.Now, ProvisioningTime: time.Minute})
	mux := http.NewServeMux()
	mux.Handle("/api/v1/", emu)
	mux.Handle(Path, New(emu))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return c, srv.URL
}

func createServer(t *testing.T, base string) {
	t.Helper()
	req, _ := http.NewRequest("POST", base+"/api/v1/servers/",
		strings.NewReader(`{"name": "web-1", "plan_id": 1, "os_id": 5, "location": "us-west"}`))
	req.Header.Set("Authorization", "Bearer "+emulator.DefaultToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("create: %v %v", resp, err)
	}
	resp.Body.Close()
}

func TestFeed_ShowsEachAccountsServersAndTheRecentRequests(t *testing.T) {
	_, base := serve(t)
	createServer(t, base)
	resp, err := http.Get(base + FeedPath)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var f feed
	if err := json.NewDecoder(resp.Body).Decode(&f); err != nil {
		t.Fatal(err)
	}
	if len(f.Accounts) != 1 || len(f.Accounts[0].Servers) != 1 || f.Accounts[0].Servers[0].Status != "provisioning" {
		t.Errorf("accounts %+v", f.Accounts)
	}
	if len(f.Requests) != 1 || f.Requests[0].Status != http.StatusCreated {
		t.Errorf("requests %+v", f.Requests)
	}
}

// The feed needs no token and the page polls it twice a second: however
// many requests came and however long their paths, it stays small.
func TestFeed_StaysSmallAfterManyTokenlessRequestsWithLongPaths(t *testing.T) {
	_, base := serve(t)
	long := base + "/api/v1/" + strings.Repeat("x", 64<<10) + "/"
	for range recentRequests + 50 {
		resp, err := http.Get(long)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	resp, err := http.Get(base + FeedPath)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	// Each entry: a cut path and some 200 bytes of other fields.
	if limit := recentRequests * (emulator.JournalPathLimit + 300); len(body) > limit {
		t.Errorf("the feed is %d bytes, want at most %d", len(body), limit)
	}
	var f feed
	if err := json.Unmarshal(body, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Requests) != recentRequests || f.Journal.Total != recentRequests+50 {
		t.Errorf("the feed shows %d requests and says %d came, want the latest %d of %d",
			len(f.Requests), f.Journal.Total, recentRequests, recentRequests+50)
	}
}

func TestPage_IsServedWithItsAssetsAndNothingFromElsewhere(t *testing.T) {
	_, base := serve(t)
	for _, p := range []string{"", "app.js", "style.css"} {
		resp, err := http.Get(base + Path + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'self'") {
			t.Errorf("%s: %d, CSP %q", Path+p, resp.StatusCode, resp.Header.Get("Content-Security-Policy"))
		}
	}
}

// chromium finds the browser, skipping the test when it is missing outside
// CI and failing it in CI, where .ci/run installs it.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("no chromium on PATH; CI must have it (.ci/run installs it with apt-get install chromium)")
	}
	t.Skip("no chromium on PATH: the live view's browser test needs it (apt-get install chromium chromium-driver)")
	return ""
}

func TestPage_InAHeadlessBrowserShowsAServerAndItsStatusChangeWithoutAReload(t *testing.T) {
	browser := chromium(t)
	clk, base := serve(t)

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(browser), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.UserDataDir(t.TempDir()))
	// A bound on a hung browser, not a timed assertion.
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	ctx, cancel = chromedp.NewExecAllocator(ctx, opts...)
	defer cancel()
	ctx, cancel = chromedp.NewContext(ctx)
	defer cancel()

	// Every console message, exception and browser log entry of the page.
	listenCtx, stopListening := context.WithCancel(ctx)
	messages := chromedp.Console(listenCtx)
	var problems []string
	collected := make(chan struct{})
	go func() {
		defer close(collected)
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleWarning || m.IsException() {
				problems = append(problems, m.String())
			}
		}
	}()

	row := chromedp.CSS(`tr[data-server-id="12345"]`)
	err := chromedp.Do(ctx,
		chromedp.Navigate(base+Path),
		chromedp.WaitVisible(chromedp.CSS(`#connection`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	// A marker that a reload would wipe out.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.loadedOnce = true`)); err != nil {
		t.Fatal(err)
	}
	createServer(t, base)
	if err := chromedp.Do(ctx, chromedp.WaitVisible(row+`[data-status="provisioning"]`)); err != nil {
		t.Fatal(err)
	}
	before, err := chromedp.Run(ctx, chromedp.Text(row))
	if err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Minute)
	if err := chromedp.Do(ctx, chromedp.WaitVisible(row+`[data-status="active"]`)); err != nil {
		t.Fatal(err)
	}
	after, err := chromedp.Run(ctx, chromedp.Text(row))
	if err != nil {
		t.Fatal(err)
	}
	timeline, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#timeline`)))
	if err != nil {
		t.Fatal(err)
	}
	if stillLoaded, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.loadedOnce === true`)); err != nil || !stillLoaded {
		t.Errorf("the page reloaded to show the change (%v)", err)
	}
	if !strings.Contains(before, "web-1") || !strings.Contains(before, "provisioning") || !strings.Contains(after, "active") {
		t.Errorf("row before %q, after %q", before, after)
	}
	if !strings.Contains(timeline, "201") || !strings.Contains(timeline, "POST /api/v1/servers/") {
		t.Errorf("timeline %q lacks the create", timeline)
	}
	stopListening()
	<-collected
	if len(problems) > 0 {
		t.Errorf("the page logged problems: %v", problems)
	}
}
