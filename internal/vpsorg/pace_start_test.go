package vpsorg

import (
	"net/http"
	"path/filepath"
	"sync"
	"testing"

	"github.com/vpsorg/terraform-provider-vpsorg/internal/emulator"
)

// TestSlowStart_ANewProcessMeetsADrainedBucketWithOneOrTwoRefusals: an
// account whose bucket (4 requests/s, bursts of 4) another command has
// nearly emptied; a new process with a pace file but no pace in it (the
// first of its working directory) sends ten requests at once. Started
// slowly, at most two are refused before the first 429 holds the rest; a
// client without slow start has every request on its way refused once the
// first answer lets them go.
func TestSlowStart_ANewProcessMeetsADrainedBucketWithOneOrTwoRefusals(t *testing.T) {
	emu, err := emulator.Start(emulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emu.Close() })
	refusedOf := func(file string) int {
		emu.SetRateLimit(4, 4)
		for range 2 { // the command before leaves two
			emu.ServeHTTP(discard{}, mustRequest(t, emu.URL()+"servers/"))
		}
		emu.ResetRequests()
		c, err := New(Config{Endpoint: emu.URL(), Token: emulator.DefaultToken, PaceFile: file})
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for range 10 {
			wg.Go(func() {
				if _, err := c.ListServers(t.Context(), ListServersOptions{}); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		refused := 0
		for _, r := range emu.Requests() {
			if r.Status == http.StatusTooManyRequests {
				refused++
			}
		}
		return refused
	}
	slow, fast := refusedOf(filepath.Join(t.TempDir(), "pace.json")), refusedOf("")
	t.Logf("refused: %d started slowly, %d without", slow, fast)
	if slow > 2 {
		t.Errorf("started slowly: %d refused, want at most 2", slow)
	}
	if fast <= 2 {
		t.Errorf("without slow start: %d refused; the test cannot tell the two apart", fast)
	}
}

type discard struct{}

func (discard) Header() http.Header         { return http.Header{} }
func (discard) Write(b []byte) (int, error) { return len(b), nil }
func (discard) WriteHeader(int)             {}

func mustRequest(t *testing.T, url string) *http.Request {
	t.Helper()
	r, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("Authorization", "Bearer "+emulator.DefaultToken)
	return r
}
