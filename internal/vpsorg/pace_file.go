package vpsorg

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
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

// paceRecord is the pace of one account at one endpoint. It never holds
// the token: Account is accountFingerprint's.
type paceRecord struct {
	Endpoint string    `json:"endpoint"`
	Account  string    `json:"account"`
	Pace     float64   `json:"requests_per_second"` // 0: not pacing
	Refused  float64   `json:"refused_per_second"`
	Hold     time.Time `json:"hold_until,omitzero"`
	Saved    time.Time `json:"saved"`
}

// paceFileContent is the file's content: one record for each account and
// endpoint the workspace's provider processes used in the last paceMemory.
// Provider aliases of one workspace may use several accounts, and one
// account's limit says nothing about another's.
type paceFileContent struct {
	Paces []paceRecord `json:"paces"`
}

// accountFingerprint names the account of token in the file: a hash under
// a fixed prefix of our own, so the file tells accounts apart without
// holding, or making it easy to look up, the token.
func accountFingerprint(token string) string {
	sum := sha256.Sum256([]byte("vpsorg pace file account\x00" + token))
	return hex.EncodeToString(sum[:8])
}

// readPaces reads the file's records; a missing or unreadable file, or one
// in an older shape, has none.
func readPaces(file string) []paceRecord {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil
	}
	var content paceFileContent
	if json.Unmarshal(data, &content) != nil {
		return nil
	}
	return content.Paces
}

// loadPace starts the pacer from the file, when it holds a recent pace for
// this endpoint and account. A missing or unreadable file is no pace: the
// client learns as if it had none. A hold is cut to the longest the client
// would hold by itself (MaxRetryAfter): a hold further ahead comes from a
// broken clock or an edited file, not from the API.
func (p *pacer) loadPace(now time.Time) {
	var rec paceRecord
	for _, r := range readPaces(p.file) {
		if r.Endpoint == p.endpoint && r.Account == p.account {
			rec = r
		}
	}
	if rec.Saved.IsZero() || now.Sub(rec.Saved) > paceMemory || now.Before(rec.Saved.Add(-time.Minute)) {
		return
	}
	if rec.Hold.After(now) {
		p.holdUntil = rec.Hold
		if longest := now.Add(p.maxRetryAfter); p.holdUntil.After(longest) {
			p.holdUntil = longest
		}
		p.holdFrom = p.file
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
	return &paceRecord{Endpoint: p.endpoint, Account: p.account, Pace: pace, Refused: p.refused, Hold: p.holdUntil, Saved: now}
}

// savePace writes a snapshot (outside the pacer's mutex). Other provider
// processes of the workspace write the same file at the same time, for
// this account or others, so under the file's lock it reads what is there,
// replaces this account's record keeping the later of the two holds (a
// routine save must not end another process's hold), keeps the other
// accounts' recent records, and writes the result to a temporary file
// renamed over the old, so a reader never sees half of it. Failing to save
// costs the next process a burst, nothing more: the error is logged.
func (p *pacer) savePace(ctx context.Context, rec *paceRecord) {
	if rec == nil {
		return
	}
	p.fileMu.Lock()
	defer p.fileMu.Unlock()
	if err := mergePace(p.file, *rec); err != nil {
		p.log(ctx, "vpsorg: could not keep the learned pace for the next process", map[string]any{"file": p.file, "error": err.Error()})
	}
}

// mergePace writes rec into file, under the file's lock, as savePace says.
func mergePace(file string, rec paceRecord) error {
	dir := filepath.Dir(file)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	unlock, err := lockPaceFile(file + ".lock")
	if err != nil {
		return err
	}
	defer unlock()
	content := paceFileContent{Paces: []paceRecord{rec}}
	for _, r := range readPaces(file) {
		switch {
		case r.Endpoint == rec.Endpoint && r.Account == rec.Account:
			if r.Hold.After(content.Paces[0].Hold) {
				content.Paces[0].Hold = r.Hold
			}
		case rec.Saved.Sub(r.Saved) <= paceMemory:
			content.Paces = append(content.Paces, r)
		}
	}
	data, err := json.Marshal(content)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".vpsorg-pace-*")
	if err != nil {
		return err
	}
	_, err = tmp.Write(data)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), file)
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
	}
	return err
}

// lockWait bounds how long a save waits for another process's: a save
// takes about a millisecond, and a process that holds the lock longer is
// stuck; a request must not wait on it.
const lockWait = 500 * time.Millisecond

// lockPaceFile takes an exclusive lock on the file at path (made if
// missing; tryLock and unlock are each platform's) and returns its
// release. It waits for the lock at most lockWait.
func lockPaceFile(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(lockWait)
	for {
		err := tryLock(f)
		if err == nil {
			return func() { unlock(f); _ = f.Close() }, nil
		}
		if time.Now().After(deadline) {
			_ = f.Close()
			return nil, fmt.Errorf("the pace file stayed locked by another process for %v: %w", lockWait, err)
		}
		time.Sleep(2 * time.Millisecond)
	}
}
