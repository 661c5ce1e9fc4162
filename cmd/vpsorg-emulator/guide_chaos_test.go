package main

import (
	"regexp"
	"testing"
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
