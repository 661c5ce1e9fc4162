package emulator

import (
	"bytes"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
)

// Random faults ("chaos"). Whether a request fails, and how, is decided by
// the seed and by what the request is, not by when it arrives: its
// account, method, path (a server's id replaced by the server's name, so
// that ids handed out in another order change nothing), query, body, and
// how many identical requests chaos drew for before it. So the same seed
// gives the same answers to the same requests however they interleave:
// the create of "web-1" fails alike in every run, and so does the third
// GET of "web-1". What a seed cannot fix is how many requests there are:
// the number of polls follows the time things take, and a run that polls
// once more meets one more draw.

// ChaosFaults are the faults chaos picks from, with equal chances: the
// failures a client of a real cloud API meets, including one that acts
// first and then fails.
var ChaosFaults = []Fault{
	{Status: 503},
	{Status: 502},
	{Status: 429, RetryAfter: "1"},
	{Status: 500, AfterAction: true},
}

// chaos is the random fault mode; e.mu guards it.
type chaos struct {
	rate float64
	seed uint64
	// seen counts the draws for each kind of request (chaosKey's hash): it
	// grows with the kinds of request, not with their number.
	seen map[uint64]uint64
	// names are the names of the servers chaos has seen by id, kept after
	// a delete so that the polls confirming it are keyed alike.
	names map[int64]string
}

// SetChaos makes each request fail with probability rate (0 turns it off,
// 1 fails every request) with one of ChaosFaults, decided by seed and the
// request. Setting it starts the counts of identical requests again.
func (e *Emulator) SetChaos(rate float64, seed uint64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.chaos = chaos{rate: min(max(rate, 0), 1), seed: seed}
	e.chaos.restart()
}

// Chaos returns the rate and seed set by SetChaos.
func (e *Emulator) Chaos() (rate float64, seed uint64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.chaos.rate, e.chaos.seed
}

// restart forgets every request seen, as at the seed's start.
func (c *chaos) restart() {
	c.seen, c.names = map[uint64]uint64{}, map[int64]string{}
}

// chaosRequest is what decides a request's draw, read before e.mu is taken.
type chaosRequest struct {
	account, method, path, query, id string
	body                             []byte
}

// readChaosRequest reads what chaos needs of r, putting its body back for
// the handler; nil when chaos is off.
func (e *Emulator) readChaosRequest(r *http.Request, account, id string) *chaosRequest {
	e.mu.Lock()
	on := e.chaos.rate > 0
	e.mu.Unlock()
	if !on {
		return nil
	}
	// A body over the API's limit is refused by the handler; what matters
	// here is only that identical requests read alike.
	body, _ := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
	r.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(body), r.Body), r.Body}
	return &chaosRequest{account: account, method: r.Method, path: r.URL.Path, query: r.URL.Query().Encode(), id: id, body: body}
}

// drawChaos decides the request's fault; e.mu must be held.
func (e *Emulator) drawChaos(req *chaosRequest) (Fault, bool) {
	c := &e.chaos
	if req == nil || c.rate == 0 {
		return Fault{}, false
	}
	key := e.chaosKey(req)
	n := c.seen[key]
	c.seen[key] = n + 1
	rng := rand.New(rand.NewPCG(key^c.seed, mix(c.seed+n)))
	if rng.Float64() >= c.rate {
		return Fault{}, false
	}
	return ChaosFaults[rng.IntN(len(ChaosFaults))], true
}

// chaosKey hashes what the request is; e.mu must be held.
func (e *Emulator) chaosKey(req *chaosRequest) uint64 {
	path := req.path
	if id, ok := parseID(req.id); ok {
		if name, ok := e.chaosName(id); ok {
			path = strings.Replace(path, "/"+req.id+"/", "/name:"+name+"/", 1)
		}
	}
	h := fnv.New64a()
	for _, part := range []string{req.account, req.method, path, req.query} {
		_, _ = h.Write([]byte(part))
		_, _ = h.Write([]byte{0})
	}
	_, _ = h.Write(req.body)
	return mix(h.Sum64())
}

// chaosName is the name of the server with this id, as chaos first saw
// it; e.mu must be held.
func (e *Emulator) chaosName(id int64) (string, bool) {
	if name, ok := e.chaos.names[id]; ok {
		return name, true
	}
	s, ok := e.servers[id]
	if !ok {
		s, ok = e.gone[id]
	}
	if !ok {
		return "", false
	}
	e.chaos.names[id] = s.name
	return s.name, true
}
