// Package liveview is the emulator's read-only page at /_emulator/ui/:
// each account's servers with their status as it changes, and a timeline
// of recent requests (status codes, refusals, faults). It is for a demo
// audience or a puzzled pipeline author, who would rather look than read a
// log. Its assets are embedded and it loads nothing from elsewhere, so it
// works offline; the page polls a JSON feed.
//
// It shows no token and changes nothing, so unlike the control API it needs
// no admin token.
package liveview

import (
	"embed"
	"encoding/json"
	"io/fs"
	"net/http"

	"github.com/vpsorg/terraform-provider-vpsorg/internal/emulator"
)

// Path is where the page is served.
const Path = "/_emulator/ui/"

// FeedPath is the JSON the page polls.
const FeedPath = Path + "feed.json"

// recentRequests is how many requests the timeline shows.
const recentRequests = 200

//go:embed assets
var assets embed.FS

// New returns the live view of emu, an http.Handler for Path.
func New(emu *emulator.Emulator) http.Handler {
	files, _ := fs.Sub(assets, "assets") // a constant path: cannot fail
	static := http.StripPrefix(Path, http.FileServerFS(files))
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+FeedPath, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_ = json.NewEncoder(w).Encode(feedOf(emu))
	})
	mux.HandleFunc("GET "+Path, func(w http.ResponseWriter, r *http.Request) {
		// Nothing from elsewhere, ever: the page must work offline.
		w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:")
		static.ServeHTTP(w, r)
	})
	return mux
}

// feed is what the page shows: the latest recentRequests requests, and
// how many the journal has seen.
type feed struct {
	Accounts []accountFeed         `json:"accounts"`
	Requests []emulator.Request    `json:"requests"`
	Journal  emulator.JournalStats `json:"journal"`
}

type accountFeed struct {
	Name    string            `json:"name"`
	Servers []emulator.Server `json:"servers"`
}

func feedOf(emu *emulator.Emulator) feed {
	f := feed{Accounts: []accountFeed{}}
	for _, a := range emu.Accounts() {
		f.Accounts = append(f.Accounts, accountFeed{Name: a, Servers: emu.Servers(a)})
	}
	f.Requests = emu.RecentRequests(recentRequests)
	f.Journal = emu.JournalStats()
	return f
}
