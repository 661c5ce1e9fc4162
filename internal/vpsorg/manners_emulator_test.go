package vpsorg_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/vpsorg/terraform-provider-vpsorg/internal/emulator"
	"github.com/vpsorg/terraform-provider-vpsorg/internal/vpsorg"
)

// Against the emulator's manners, the client end to end.

func TestManners_ErrorsThatEchoTheTokenOrAreHugeComeBackMaskedAndBounded(t *testing.T) {
	emu := startEmulator(t, emulator.Options{Manners: emulator.Manners{EchoHeaders: true}})
	c := newClient(t, emu, tokenAlpha)
	_, err := c.GetServer(testContext(t), 99)
	if err == nil || strings.Contains(err.Error(), tokenAlpha) || !strings.Contains(err.Error(), "Bearer ***") {
		t.Errorf("error = %v, want the echoed token masked", err)
	}

	emu.SetManners(emulator.Manners{HugeErrors: true, EchoHeaders: true})
	_, err = c.GetServer(testContext(t), 99)
	if err == nil || len(err.Error()) > 4<<10 || strings.Contains(err.Error(), tokenAlpha) {
		t.Errorf("error of %d bytes (token shown: %v), want at most 4 KiB without the token",
			len(err.Error()), strings.Contains(err.Error(), tokenAlpha))
	}
}

func TestManners_ClientLearnsTheEmulatorsClockOffset(t *testing.T) {
	emu := startEmulator(t, emulator.Options{Manners: emulator.Manners{ClockOffset: -20 * time.Second}})
	c := newClient(t, emu, tokenAlpha)
	if _, err := c.ListServers(testContext(t), vpsorg.ListServersOptions{}); err != nil {
		t.Fatal(err)
	}
	if got, ok := c.ClockOffset(); !ok || got < -21*time.Second || got > -19*time.Second {
		t.Errorf("offset = %v (known %v), want about -20s", got, ok)
	}
}

func TestManners_AHostileNextLinkIsRefused(t *testing.T) {
	for _, next := range []string{"https://evil.example/steal", "?page=1#again"} {
		t.Run(next, func(t *testing.T) {
			emu := startEmulator(t, emulator.Options{Manners: emulator.Manners{HostileNext: next}})
			c := newClient(t, emu, tokenAlpha)
			_, err := c.ListServers(testContext(t), vpsorg.ListServersOptions{})
			var apiErr *vpsorg.APIError
			if !errors.As(err, &apiErr) || !strings.Contains(err.Error(), "next") {
				t.Errorf("error = %v, want the next link refused", err)
			}
			if n := len(emu.Requests()); n > 2 {
				t.Errorf("%d requests; the link should have been refused at once", n)
			}
		})
	}
}
