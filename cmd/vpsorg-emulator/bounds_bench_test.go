package main

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// BenchmarkBinary_StaysBoundedUnderLoad drives the built emulator, with
// -state and the documented sizes (a journal of 10,000 requests, paths cut
// to 256 bytes, 100 deleted servers' histories), through a few thousand
// token-less requests with 64 KiB paths and a few thousand create/delete
// cycles, and reports its RSS and the state file's size before and after
// each: what grows must stop at those sizes. Run it once:
//
//	go test -run '^$' -bench BenchmarkBinary_StaysBoundedUnderLoad -benchtime 1x ./cmd/vpsorg-emulator/
func BenchmarkBinary_StaysBoundedUnderLoad(b *testing.B) {
	const tokenless, pathLen, cycles = 5000, 64 << 10, 3000
	state := filepath.Join(b.TempDir(), "state.json")
	p := startBinary(b, "-listen", "127.0.0.1:0", "-quiet", "-state", state, "-provisioning-time", "0s")
	pid := p.cmd.Process.Pid
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
	defer client.CloseIdleConnections()
	filler := strings.Repeat("x", pathLen)

	for b.Loop() {
		report(b, "start", pid, state)
		for i := range tokenless {
			if code, _ := request(b, client, "GET", fmt.Sprintf("%s%d-%s/", p.url, i, filler), "", ""); code != http.StatusNotFound {
				b.Fatalf("token-less GET: %d", code)
			}
		}
		report(b, "after-tokenless", pid, state)
		for range cycles {
			code, body := request(b, client, "POST", p.url+"servers/", "emulator-token",
				`{"name": "cycle", "plan_id": 1, "os_id": 5, "location": "us-west"}`)
			id := strings.TrimSuffix(strings.SplitN(strings.SplitN(body, `"id":`, 2)[1], ",", 2)[0], "}")
			if code != http.StatusCreated {
				b.Fatalf("create: %d %s", code, body)
			}
			if code, _ := request(b, client, "DELETE", p.url+"servers/"+id+"/", "emulator-token", ""); code != http.StatusNoContent {
				b.Fatalf("delete %s: %d", id, code)
			}
		}
		report(b, "after-cycles", pid, state)
	}
	s := journalStats(b, p)
	_, journal := request(b, p.client, "GET", p.root()+"_emulator/requests", "", "")
	_, feed := request(b, p.client, "GET", p.root()+"_emulator/ui/feed.json", "", "")
	b.Logf("journal: kept %d of %d (size %d); GET /_emulator/requests %d bytes; live-view feed %d bytes",
		s.Kept, s.Total, s.Size, len(journal), len(feed))
	b.ReportMetric(float64(len(journal))/1024, "journal-KiB")
	b.ReportMetric(float64(len(feed))/1024, "feed-KiB")
}

// report logs and reports the emulator's RSS and the state file's size.
func report(b *testing.B, when string, pid int, state string) {
	b.Helper()
	rss := vmRSS(b, pid)
	fi, err := os.Stat(state)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("%-16s RSS %7d KiB, state file %7d bytes", when, rss, fi.Size())
	b.ReportMetric(float64(rss), "RSS-KiB-"+when)
	b.ReportMetric(float64(fi.Size()), "state-B-"+when)
}

// vmRSS reads VmRSS (KiB) from /proc/PID/status; the benchmark needs Linux.
func vmRSS(b *testing.B, pid int) int {
	b.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Skipf("no /proc here: %v", err)
	}
	defer f.Close()
	for sc := bufio.NewScanner(f); sc.Scan(); {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			n, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			if err != nil {
				b.Fatalf("VmRSS %q: %v", v, err)
			}
			return n
		}
	}
	b.Fatal("no VmRSS in /proc/PID/status")
	return 0
}
