package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"

	"github.com/vpsorg/terraform-provider-vpsorg/internal/emulator"
	"github.com/vpsorg/terraform-provider-vpsorg/internal/emulator/persist"
)

// The emulator guide's "Reproducible chaos" shows the banner's chaos line
// for -chaos 0.05 and the seed 88412; given that seed, the command prints
// that line, replay hint included.
func TestGuide_ChaosLineIsWhatTheCommandPrints(t *testing.T) {
	guide := readGuide(t)
	sample := regexp.MustCompile("(?s)and the banner prints the seed:\n\n```\n(chaos: .*?)\n```").FindStringSubmatch(guide)
	if sample == nil {
		t.Fatalf("%s has no chaos line after \"and the banner prints the seed:\"", guidePath)
	}
	r := start(t, "-listen", "127.0.0.1:0", "-quiet", "-chaos", "0.05", "-chaos-seed", "88412")
	if line := regexp.MustCompile(`(?m)^chaos: .*$`).FindString(r.stdout.String() + r.stderr.String()); line != sample[1] {
		t.Errorf("the guide shows %q, the command prints %q", sample[1], line)
	}
}

// The guide's seed file is one -seed accepts, and gives the accounts the
// servers, statuses and ids (12345 onwards, accounts in name order) the
// guide says.
func TestGuide_SeedExampleLoads(t *testing.T) {
	sample := regexp.MustCompile("(?s)A seed file gives each account its servers, in any status:\n\n```json\n(.*?)```").FindStringSubmatch(readGuide(t))
	if sample == nil {
		t.Fatalf("%s has no seed example after \"A seed file gives each account its servers, in any status:\"", guidePath)
	}
	path := filepath.Join(t.TempDir(), "seed.json")
	if err := os.WriteFile(path, []byte(sample[1]), 0o600); err != nil {
		t.Fatal(err)
	}
	seed, err := persist.LoadSeed(path)
	if err != nil {
		t.Fatalf("the guide's seed does not load: %v", err)
	}
	emu := emulator.New(emulator.Options{})
	if err := seed.Apply(emu); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, account := range []string{"default", "team-b"} {
		for _, s := range emu.Servers(account) {
			got = append(got, fmt.Sprintf("%s/%s/%s/%d", account, s.Name, s.Status, s.ID))
		}
	}
	want := []string{"default/web-1/active/12345", "default/legacy/suspended/12346", "team-b/db/provisioning/12347"}
	if !slices.Equal(got, want) {
		t.Errorf("the guide's seed gives %q, want %q", got, want)
	}
}
