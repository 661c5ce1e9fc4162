package emulator

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestJournal_KeepsTheLatestRequestsAndCountsThemAll(t *testing.T) {
	h := newHarness(t, Options{JournalSize: 3})
	for i := range 5 {
		h.doAs("", "GET", serverPath(int64(i+1), ""), nil, nil)
	}
	got := h.emu.Requests()
	if len(got) != 3 || got[0].Path != serverPath(3, "") || got[2].Path != serverPath(5, "") {
		t.Errorf("kept %+v, want the requests for ids 3, 4 and 5, oldest first", got)
	}
	if s := h.emu.JournalStats(); s != (JournalStats{Size: 3, Kept: 3, Total: 5, PathLimit: JournalPathLimit}) {
		t.Errorf("stats %+v, want size 3, kept 3 of 5", s)
	}
	if n := h.emu.RequestCounts()["GET "+RouteServer]; n != 5 {
		t.Errorf("counts say %d GETs, want all 5: counts are of every request since the reset", n)
	}
	if recent := h.emu.RecentRequests(2); len(recent) != 2 || recent[1].Path != serverPath(5, "") {
		t.Errorf("the latest two: %+v", recent)
	}
	h.emu.ResetRequests()
	if s := h.emu.JournalStats(); s.Kept != 0 || s.Total != 0 || len(h.emu.RequestCounts()) != 0 {
		t.Errorf("after a reset: %+v %v", s, h.emu.RequestCounts())
	}
	h.do("GET", "/api/v1/servers/", nil)
	if got := h.emu.Requests(); len(got) != 1 || got[0].Route != RouteServers {
		t.Errorf("after a reset the journal starts again: %+v", got)
	}
}

func TestJournal_CutsLongPathsQueriesAndMethodsAndMarksThem(t *testing.T) {
	h := newHarness(t, Options{})
	long := "/api/v1/" + strings.Repeat("a", 100_000) + "/"
	h.doAs("", "GET", long+"?q="+strings.Repeat("b", 100_000), nil, nil)
	h.doAs("", strings.Repeat("M", 1000), "/api/v1/servers/", nil, nil)
	h.doAs("", "GET", "/api/v1/servers/", nil, nil)

	got := h.emu.Requests()
	if len(got) != 3 {
		t.Fatalf("journal %d entries, want 3", len(got))
	}
	for i, r := range got[:2] {
		if !r.Cut {
			t.Errorf("entry %d is not marked as cut", i)
		}
		for name, s := range map[string]string{"path": r.Path, "query": r.RawQuery, "method": r.Method} {
			if len(s) > JournalPathLimit+len(cutMark) {
				t.Errorf("entry %d keeps a %s of %d bytes, want at most %d and the mark", i, name, len(s), JournalPathLimit)
			}
		}
	}
	if !strings.HasPrefix(got[0].Path, "/api/v1/aaa") || !strings.HasSuffix(got[0].Path, cutMark) {
		t.Errorf("a cut path keeps its start and ends in %q: %.40q…", cutMark, got[0].Path)
	}
	if got[2].Cut || got[2].Path != "/api/v1/servers/" {
		t.Errorf("a short path is kept whole and unmarked: %+v", got[2])
	}
	// A method HTTP does not define counts under OTHER, so that made-up
	// methods cannot grow the counts without bound.
	if c := h.emu.RequestCounts(); c["OTHER "+RouteServers] != 1 || len(c) != 3 {
		t.Errorf("counts %v", c)
	}
}

func TestLog_EscapesWhatAClientSentSoNoLineIsForged(t *testing.T) {
	var logBuf syncBuffer
	h := newHarness(t, Options{Log: &logBuf})
	forged := "/x\n2026-01-02T15:04:05Z DELETE /api/v1/servers/12345/ 204 1ms account=alice\n"
	req, _ := http.NewRequest("GET", h.srv.URL+"/api/v1/servers/", nil)
	req.URL.Path = forged
	resp, err := h.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	h.do("GET", "/api/v1/servers/", nil)

	lines := strings.Split(strings.TrimSuffix(logBuf.String(), "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("two requests wrote %d lines:\n%s", len(lines), logBuf.String())
	}
	if !strings.Contains(lines[0], `"/x\n2026-01-02T15:04:05Z DELETE`) || !strings.Contains(lines[0], " 404 ") {
		t.Errorf("the forged path is not quoted on its own line: %q", lines[0])
	}
	if !strings.Contains(lines[1], " GET /api/v1/servers/ 200 ") {
		t.Errorf("a plain path is logged as it is: %q", lines[1])
	}
}

func TestHistory_KeepsTheLatestDeletedServersOnly(t *testing.T) {
	h := newHarness(t, Options{ProvisioningTime: -1})
	var ids []int64
	for range KeptDeletedHistories + 5 {
		id := h.create("cycle")
		h.do("DELETE", serverPath(id, ""), nil)
		h.clock.Advance(time.Second)
		ids = append(ids, id)
	}
	if got := h.emu.History(ids[4]); got != nil {
		t.Errorf("the 5th of %d deleted servers still has a history: %+v", len(ids), got)
	}
	if got := h.emu.History(ids[5]); len(got) == 0 || got[len(got)-1].Status != StatusDeleted {
		t.Errorf("the oldest of the latest %d deleted lost its history: %+v", KeptDeletedHistories, got)
	}
	st := h.emu.Snapshot()
	if len(st.Deleted) != KeptDeletedHistories {
		t.Errorf("the state keeps %d deleted histories, want %d", len(st.Deleted), KeptDeletedHistories)
	}

	// A state with more, written before the bound, keeps the latest deleted.
	st.Deleted[ids[0]] = []StatusChange{{At: h.clock.Now().Add(-time.Hour), Status: StatusDeleted, Cause: "DELETE"}}
	h2 := newHarness(t, Options{})
	if err := h2.emu.Restore(st); err != nil {
		t.Fatal(err)
	}
	if got := h2.emu.History(ids[0]); got != nil {
		t.Errorf("restore kept the longest-deleted history: %+v", got)
	}
	if got := h2.emu.History(ids[len(ids)-1]); len(got) == 0 {
		t.Error("restore dropped the latest deleted history")
	}
	if n := len(h2.emu.Snapshot().Deleted); n != KeptDeletedHistories {
		t.Errorf("restored %d deleted histories, want %d", n, KeptDeletedHistories)
	}
}
