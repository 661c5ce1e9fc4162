package vpsorg

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/time/rate"
)

// Terraform starts a new provider process for every command, and more than
// one for an apply; a client that learned the API's limit in one process
// would meet it again, with a burst of refusals, in the next. With
// Config.PaceFile the client keeps what it learned (its pace and any hold)
// in a small file, and a new client for the same endpoint starts from it:
// paced, without a burst. The provider puts the file in Terraform's own
// data directory (.terraform/ of the working directory), so each workspace
// keeps its own.

// paceMemory is how long a recorded pace is trusted: one learned longer
// ago says little about the API now, and the client learns again.
const paceMemory = 10 * time.Minute

// warmStep is how much a pace from the file grows with each answer until
// the process meets a 429: doubling in about two seconds of requests at
// the pace, where the adaptive pace takes minutes.
const warmStep = 0.35

// paceRecord is the file's content. It never holds the token.
type paceRecord struct {
	Endpoint string    `json:"endpoint"`
	Pace     float64   `json:"requests_per_second"` // 0: not pacing
	Refused  float64   `json:"refused_per_second"`
	Hold     time.Time `json:"hold_until,omitzero"`
	Saved    time.Time `json:"saved"`
}

// loadPace starts the pacer from the file, when it holds a recent pace for
// this endpoint. A missing or unreadable file is no pace: the client
// learns as if it had none.
func (p *pacer) loadPace(now time.Time) {
	data, err := os.ReadFile(p.file)
	if err != nil {
		return
	}
	var rec paceRecord
	if json.Unmarshal(data, &rec) != nil || rec.Endpoint != p.endpoint || now.Sub(rec.Saved) > paceMemory || now.Before(rec.Saved.Add(-time.Minute)) {
		return
	}
	if rec.Hold.After(now) {
		p.holdUntil = rec.Hold
	}
	if rec.Pace <= 0 || rec.Pace < p.floor/2 || rec.Pace > 1e6 {
		return
	}
	p.limit = max(rec.Pace, p.floor)
	p.refused = max(rec.Refused, p.limit)
	p.logged = p.limit
	p.cutAt = now
	p.warm = true
	p.adaptive.SetLimitAt(now, rate.Limit(p.limit))
}

// keepWindow is how far back the pace kept for the next process looks.
const keepWindow = 10 * time.Second

// keep counts an accepted answer for the pace to keep.
func (p *pacer) keep(now time.Time) {
	if p.file == "" {
		return
	}
	if p.firstAnswer.IsZero() {
		p.firstAnswer = now
	}
	p.kept = append(p.kept, now)
	i := 0
	for i < len(p.kept) && now.Sub(p.kept[i]) > keepWindow {
		i++
	}
	p.kept = p.kept[i:]
}

// paceSnapshot is what to save, taken under the pacer's mutex; nil when
// there is no file. The pace kept is the adaptive pace, but no more than
// the API accepted over the last ten seconds: after each 429 the hold
// stops every request, so a pace that overshoots still has its answers
// accepted at about the API's rate, and that rate is what the next
// process can send at from its first request.
func (p *pacer) paceSnapshot(now time.Time) *paceRecord {
	if p.file == "" {
		return nil
	}
	pace := p.limit
	if span := min(now.Sub(p.firstAnswer), keepWindow); pace > 0 && span >= time.Second {
		pace = min(pace, max(float64(len(p.kept))/span.Seconds(), p.floor))
	}
	return &paceRecord{Endpoint: p.endpoint, Pace: pace, Refused: p.refused, Hold: p.holdUntil, Saved: now}
}

// savePace writes a snapshot (outside the pacer's mutex): to a temporary
// file renamed over the old, so a reader never sees half of it. Failing to
// save costs the next process a burst, nothing more: the error is logged.
func (p *pacer) savePace(ctx context.Context, rec *paceRecord) {
	if rec == nil {
		return
	}
	p.fileMu.Lock()
	defer p.fileMu.Unlock()
	data, err := json.Marshal(rec)
	if err == nil {
		err = os.MkdirAll(filepath.Dir(p.file), 0o755)
	}
	var tmp *os.File
	if err == nil {
		tmp, err = os.CreateTemp(filepath.Dir(p.file), ".vpsorg-pace-*")
	}
	if err == nil {
		_, err = tmp.Write(data)
		if cerr := tmp.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Rename(tmp.Name(), p.file)
		}
		if err != nil {
			_ = os.Remove(tmp.Name())
		}
	}
	if err != nil {
		p.log(ctx, "vpsorg: could not keep the learned pace for the next process", map[string]any{"file": p.file, "error": err.Error()})
	}
}
