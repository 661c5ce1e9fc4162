package main

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/vpsorg/terraform-provider-vpsorg/internal/emulator/control"
)

// The emulator guide (templates/guides/emulator.md.tmpl, from which
// docs/guides/emulator.md is generated) documents this command. These tests
// hold it to the command itself, mechanically, so that a flag added without
// its row, or a banner changed without its sample, fails make check.

const guidePath = "../../templates/guides/emulator.md.tmpl"

func readGuide(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(guidePath)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// commandFlags are the flags the command defines, as its -h lists them.
func commandFlags(t *testing.T) []string {
	t.Helper()
	var help bytes.Buffer
	if _, err := parseFlags([]string{"-h"}, &help); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("-h: %v", err)
	}
	var names []string
	for _, m := range regexp.MustCompile(`(?m)^  -([a-z0-9-]+)`).FindAllStringSubmatch(help.String(), -1) {
		names = append(names, m[1])
	}
	if len(names) < 5 {
		t.Fatalf("found only %v in the help text; the test would prove nothing:\n%s", names, help.String())
	}
	return names
}

// guideFlags are the flags in the first column of the guide's flag tables
// (the server's flags, and those of the emulator as a service further on).
func guideFlags(t *testing.T, guide string) []string {
	t.Helper()
	tables := regexp.MustCompile(`(?s)\| flag \| default \| meaning \|\n\|[-|]+\|\n((?:\|[^\n]*\n)+)`).FindAllStringSubmatch(guide, -1)
	if tables == nil {
		t.Fatalf("%s has no table headed | flag | default | meaning |", guidePath)
	}
	var rows []string
	for _, table := range tables {
		rows = append(rows, strings.Split(strings.TrimSpace(table[1]), "\n")...)
	}
	var names []string
	for _, row := range rows {
		m := regexp.MustCompile("^\\| `-([a-z0-9-]+)(?: [A-Z]+)?` \\|").FindStringSubmatch(row) // `-seed FILE`
		if m == nil {
			t.Errorf("a row of the flag table does not begin with a flag in backquotes: %q", row)
			continue
		}
		names = append(names, m[1])
	}
	return names
}

func TestGuide_FlagTableListsEveryFlagOfTheCommand(t *testing.T) {
	have, documented := commandFlags(t), guideFlags(t, readGuide(t))
	for _, name := range have {
		if !slices.Contains(documented, name) {
			t.Errorf("-%s is a flag of vpsorg-emulator, but the flag table of %s has no row for it", name, guidePath)
		}
	}
	for _, name := range documented {
		if !slices.Contains(have, name) {
			t.Errorf("the flag table of %s has a row for -%s, which vpsorg-emulator does not define", guidePath, name)
		}
	}
	seen := map[string]bool{}
	for _, name := range documented {
		if seen[name] {
			t.Errorf("the flag table of %s has two rows for -%s", guidePath, name)
		}
		seen[name] = true
	}
}

// The guide's "Settings:" paragraph names every setting of the control
// API's PATCH /_emulator/settings (and the fields of some of them).
func TestGuide_SettingsParagraphNamesEveryControlSetting(t *testing.T) {
	para := regexp.MustCompile(`(?s)\nSettings: (.*?)\. A\s+request with one bad setting`).FindStringSubmatch(readGuide(t))
	if para == nil {
		t.Fatalf("%s has no paragraph beginning \"Settings:\"", guidePath)
	}
	var documented []string
	for _, m := range regexp.MustCompile("`([a-z_]+)`").FindAllStringSubmatch(para[1], -1) {
		documented = append(documented, m[1])
	}
	for _, s := range control.Settings {
		if !slices.Contains(documented, s.Name) {
			t.Errorf("%s is a setting of the control API, but the guide's Settings paragraph does not name it", s.Name)
		}
	}
}

// The banner the guide shows is the one the command prints, port aside.
func TestGuide_BannerSampleIsWhatTheCommandPrints(t *testing.T) {
	guide := readGuide(t)
	sample := regexp.MustCompile("(?s)It prints the endpoint and a token:\n\n```\n(.*?)```").FindStringSubmatch(guide)
	if sample == nil {
		t.Fatalf("%s has no banner sample after \"It prints the endpoint and a token:\"", guidePath)
	}
	r := start(t, "-listen", "127.0.0.1:0", "-provisioning-time", "5s")
	printed := regexp.MustCompile(`127\.0\.0\.1:\d+`).ReplaceAllString(r.stdout.String(), "127.0.0.1:8080")
	if printed != sample[1] {
		t.Errorf("the guide's banner sample is stale.\nguide:\n%s\nthe command prints (port set to 8080):\n%s", sample[1], printed)
	}

	// The faults line the guide quotes, for the flags it shows.
	faulty := start(t, "-listen", "127.0.0.1:0", "-quiet", "-consistency-lag", "1s", "-rate-limit", "10", "-latency", "50ms")
	line := regexp.MustCompile(`(?m)^faults: .*$`).FindString(faulty.stdout.String())
	quoted := regexp.MustCompile("(?s)It prints `(faults: [^`]*)`").FindStringSubmatch(guide)
	if quoted == nil || line == "" {
		t.Fatalf("no faults line to compare: the guide quotes %q, the command printed %q", quoted, faulty.stdout.String())
	}
	if got := strings.Join(strings.Fields(quoted[1]), " "); got != line {
		t.Errorf("the guide quotes %q, the command prints %q", got, line)
	}
}
