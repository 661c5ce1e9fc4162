package main

import (
	"fmt"
	"testing"
)

func TestNamedBreaks(t *testing.T) {
	const changelog = "## 0.2.0 (Unreleased)\n\n" +
		"BREAKING CHANGES:\n\n" +
		"* `vpsorg_server.hostname` is removed; and `data.vpsorg_servers.location` is a list now.\n" +
		"* resource vpsorg_server.note is gone (not in backticks: not named)\n\n" +
		"FEATURES:\n\n" +
		"* `vpsorg_server.tags` (a feature, not a break)\n\n" +
		"## 0.1.0\n\n" +
		"BREAKING CHANGES:\n\n" +
		"* `vpsorg_server.old` (released long ago)\n"
	got := fmt.Sprint(namedBreaks(changelog))
	want := fmt.Sprint(map[string]bool{"vpsorg_server.hostname": true, "data.vpsorg_servers.location": true})
	if got != want {
		t.Errorf("named %s, want %s", got, want)
	}
}

func TestNamedBreaks_nothingWithoutAnUnreleasedSection(t *testing.T) {
	got := namedBreaks("## 0.1.0\n\nBREAKING CHANGES:\n\n* `vpsorg_server.hostname`\n")
	if len(got) != 0 {
		t.Errorf("named %v from a released section", got)
	}
}
