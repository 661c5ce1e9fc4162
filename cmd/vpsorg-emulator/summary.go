package main

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/vpsorg/terraform-provider-vpsorg/internal/emulator"
)

// writeSummary tells what the command did to the emulator: requests by
// route and status, refusals, faults, and the servers left per account
// (left-overs are what a test forgot to destroy). Beyond the journal's
// size, all but the total are of the latest requests, and it says so.
func writeSummary(w io.Writer, emu *emulator.Emulator, command []string, code int) {
	reqs, journal := emu.Requests(), emu.JournalStats()
	byRoute := map[string]map[int]int{}
	refusals, faults := map[int]int{}, 0
	for _, r := range reqs {
		key := r.Method + " " + r.Route
		if byRoute[key] == nil {
			byRoute[key] = map[int]int{}
		}
		byRoute[key][r.Status]++
		if r.Fault {
			faults++
		} else if r.Status >= 400 && r.Status < 500 {
			refusals[r.Status]++
		}
	}
	fmt.Fprintf(w, "\nvpsorg-emulator run: %q exited with status %d\n", strings.Join(command, " "), code)
	fmt.Fprintf(w, "requests: %d\n", journal.Total)
	if journal.Kept < journal.Total {
		fmt.Fprintf(w, "  (what follows is of the latest %d, which the journal keeps: -journal-size)\n", journal.Kept)
	}
	routes := make([]string, 0, len(byRoute))
	for k := range byRoute {
		routes = append(routes, k)
	}
	sort.Strings(routes)
	for _, route := range routes {
		fmt.Fprintf(w, "  %-38s %s\n", route, countsText(byRoute[route]))
	}
	n := 0
	for _, c := range refusals {
		n += c
	}
	fmt.Fprintf(w, "refusals (4xx not from a fault): %d", n)
	if n > 0 {
		fmt.Fprintf(w, " (%s)", countsText(refusals))
	}
	fmt.Fprintf(w, "\nfaults injected: %d\n", faults)
	fmt.Fprint(w, "servers left:")
	for _, a := range emu.Accounts() {
		fmt.Fprintf(w, " %s %d", a, len(emu.Servers(a)))
	}
	fmt.Fprintln(w)
}

// countsText is "200 x3, 404 x1", statuses in order; 0 is a dropped answer.
func countsText(counts map[int]int) string {
	statuses := make([]int, 0, len(counts))
	for s := range counts {
		statuses = append(statuses, s)
	}
	sort.Ints(statuses)
	parts := make([]string, len(statuses))
	for i, s := range statuses {
		label := fmt.Sprint(s)
		if s == 0 {
			label = "dropped"
		}
		parts[i] = fmt.Sprintf("%s x%d", label, counts[s])
	}
	return strings.Join(parts, ", ")
}
