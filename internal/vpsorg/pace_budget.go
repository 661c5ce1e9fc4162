package vpsorg

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Many APIs that rate-limit say in every answer how much of the limit is
// left (VPS.org documents none, but a client that reads them where they
// appear need never be refused). The client understands three families:
//
//   - RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset (seconds), and
//     optionally the older draft's RateLimit-Policy: LIMIT;w=WINDOW;
//   - the IETF httpapi draft's structured fields, RateLimit: "name";r=R;t=T
//     and RateLimit-Policy: "name";q=LIMIT;w=WINDOW;
//   - X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset (seconds,
//     or a Unix time as GitHub sends it).
//
// From them the client keeps a budget: what the last answer said was left,
// less every request sent since and every one on its way when it came; it
// refills at LIMIT per WINDOW when a window is given, and is whole again at
// the reset otherwise (a fixed window). A request that finds the budget
// spent waits for the refill, so the budget is never exhausted.

// answerLook is how often a request that waits for an answer's word on
// the budget looks for it.
const answerLook = 20 * time.Millisecond

// The shares of a stated budget with a window that gap keeps
// (paceReserve) and above which it spends (paceTop) once other clients are
// seen spending it, and how long what is above paceTop (without a window:
// above half) takes to spend at the least (spendTime). Until then a client
// keeps aloneReserve requests: the answers state whole requests, and the
// API's bucket may be a fraction short of the next one.
const (
	paceReserve  = 0.5
	paceTop      = 0.75
	spendTime    = time.Second
	aloneReserve = 1.0
)

// othersSlack is how far below this client's own estimate an answer may
// put the budget before the difference is taken for other clients'
// spending: a whole request for the rounding, and what the estimate
// refilled while the answer was on its way.
const othersSlack = 1.0

// othersLatency bounds how long an answer takes to come back, for
// othersSlack's refill.
const othersLatency = 250 * time.Millisecond

// budgetInfo is what one answer said about the rate limit.
type budgetInfo struct {
	limit     float64
	remaining float64
	reset     time.Duration // until the budget is whole again
	window    time.Duration // the limit's period; 0 when not said
}

// parseBudget reads the rate-limit headers of an answer; false when it has
// none that make sense.
func parseBudget(h http.Header, now time.Time) (budgetInfo, bool) {
	var b budgetInfo
	var ok bool
	switch {
	case h.Get("RateLimit") != "":
		params := sfParams(h.Get("RateLimit"))
		b.remaining, ok = number(params["r"])
		t, tok := number(params["t"])
		if !ok || !tok {
			return b, false
		}
		b.reset = seconds(t)
		policy := sfParams(h.Get("RateLimit-Policy"))
		q, qok := number(policy["q"])
		w, wok := number(policy["w"])
		if qok && wok && w > 0 {
			b.limit, b.window = q, seconds(w)
		} else {
			b.limit = b.remaining // unknown: assume what is left is all
		}
		return b, true
	case h.Get("RateLimit-Remaining") != "":
		return fields(h, "RateLimit-", now, false)
	case h.Get("X-RateLimit-Remaining") != "":
		return fields(h, "X-RateLimit-", now, true)
	}
	return b, false
}

// fields reads a LIMIT / REMAINING / RESET family with the given prefix. A
// reset larger than a year of seconds is a Unix time (when epochOK).
func fields(h http.Header, prefix string, now time.Time, epochOK bool) (budgetInfo, bool) {
	var b budgetInfo
	limit, lok := number(firstItem(h.Get(prefix + "Limit")))
	remaining, rok := number(h.Get(prefix + "Remaining"))
	reset, sok := number(h.Get(prefix + "Reset"))
	if !lok || !rok || !sok {
		return b, false
	}
	b.limit, b.remaining = limit, remaining
	if epochOK && reset > 365*24*3600 {
		b.reset = max(time.Unix(int64(reset), 0).Sub(now), 0)
	} else {
		b.reset = seconds(reset)
	}
	if w, ok := number(sfParams(h.Get(prefix + "Policy"))["w"]); ok && w > 0 {
		b.window = seconds(w)
	}
	return b, true
}

// firstItem is a list header's first member: "10, 10;w=1" → "10".
func firstItem(v string) string {
	item, _, _ := strings.Cut(v, ",")
	item, _, _ = strings.Cut(item, ";")
	return strings.TrimSpace(item)
}

// sfParams reads the parameters of a structured field's first list member:
// `"default";r=5;t=2` → {r: 5, t: 2}. Keys are lower-cased.
func sfParams(v string) map[string]string {
	out := map[string]string{}
	item, _, _ := strings.Cut(v, ",")
	for i, part := range strings.Split(item, ";") {
		if i == 0 {
			if q, ok := strings.CutPrefix(strings.TrimSpace(part), "q="); ok {
				out["q"] = q // the older draft: RateLimit-Policy: 10;w=1 has no name
			} else if _, err := strconv.ParseFloat(strings.TrimSpace(part), 64); err == nil {
				out["q"] = strings.TrimSpace(part)
			}
			continue
		}
		k, val, _ := strings.Cut(part, "=")
		out[strings.ToLower(strings.TrimSpace(k))] = strings.Trim(strings.TrimSpace(val), `"`)
	}
	return out
}

// number reads a non-negative decimal.
func number(v string) (float64, bool) {
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || f < 0 || f != f || f > 1e12 {
		return 0, false
	}
	return f, true
}

func seconds(s float64) time.Duration {
	return time.Duration(min(s, 1e9) * float64(time.Second))
}

// budget is the pacer's account of the rate limit from the answers'
// headers: an estimate of the requests left, level at at, which refills at
// rate (limit per window) or, without a window, is whole again at resetAt.
// The pacer's mutex guards it.
type budget struct {
	known   bool
	limit   float64
	rate    float64 // requests/s; 0 for a fixed window
	level   float64
	at      time.Time
	resetAt time.Time // fixed window: when the budget is whole again
	next    time.Time // while paced (gap): the next request's turn
	// shared: an answer put the budget lower than this client's own
	// requests explain, so other clients spend it too (see gap).
	shared bool
}

// advance brings the estimate to now.
func (b *budget) advance(now time.Time) {
	switch {
	case b.rate > 0:
		if now.After(b.at) {
			b.level = min(b.limit, b.level+b.rate*now.Sub(b.at).Seconds())
			b.at = now
		}
	case !b.resetAt.IsZero() && !now.Before(b.resetAt):
		b.level = max(b.level, b.limit)
		b.at, b.resetAt = now, time.Time{}
	}
}

// learn takes an answer's word, received at now with inFlight other
// requests still on their way (which may not be in it yet: they are
// charged again, to be safe). Within one period the estimate only goes
// down: an answer that overtook a later one must not raise it.
func (b *budget) learn(info budgetInfo, now time.Time, inFlight int) {
	said := info.remaining - float64(inFlight)
	rate := 0.0
	if info.window > 0 && info.limit > 0 {
		rate = info.limit / info.window.Seconds()
	}
	resetAt := now.Add(info.reset)
	newPeriod := !b.known || rate != b.rate || info.limit != b.limit ||
		(rate == 0 && resetAt.Sub(b.resetAt) > time.Second)
	b.advance(now)
	if newPeriod {
		b.level = said
	} else {
		// The estimate already lacks every request this client sent,
		// and the API's count can lag it only by those on their way: an
		// answer below it by more than the rounding spent others'.
		if info.remaining < b.level-othersSlack-b.rate*othersLatency.Seconds() {
			b.shared = true
		}
		b.level = min(b.level, said)
	}
	b.known, b.limit, b.rate, b.at = true, info.limit, rate, now
	if rate == 0 {
		b.resetAt = resetAt
	}
}

// gap is how far apart requests go, or, inside what is kept, until when
// none goes. A client alone on the account (no answer has shown another's
// spending) spends the budget as it comes, down to aloneReserve: its own
// count is exact, and keeping more would only slow it. Other clients of
// the account spend the same budget, and their requests show only in the
// answers: a client that spent its
// estimate to the last request would meet theirs with a 429, and clients
// that each spent the top of a full budget at once, as Terraform's ten
// operations would, spend it several times over before an answer can tell
// them. So with a window, half the budget is never spent: what the others
// spent since their last answers is in it, and so is the first request of
// a new process, which goes before any answer can say how much is left.
// Between half and three quarters the pace runs from none to the refill
// rate (k clients settle a little above half, one alone at three
// quarters); above three quarters it is the refill rate plus what is above
// them spread over spendTime (a large budget is still spent quickly, a
// small one over a few answers, so that the others' share shows before it
// is gone). Keeping half costs the burst's head start only once: the
// refill rate is the whole of the account's throughput either way. Without
// a window nothing refills until the reset, and such budgets are large (an
// hour's): what is left is spread until the reset, and what is above half
// of it over spendTime besides.
func (b *budget) gap(now time.Time) (time.Duration, time.Time) {
	if b.level <= 0 {
		return 0, time.Time{}
	}
	if b.rate > 0 && !b.shared {
		if b.level < aloneReserve+1 {
			return 0, now.Add(seconds((aloneReserve + 1 - b.level) / b.rate))
		}
		return 0, time.Time{}
	}
	if b.rate > 0 {
		reserve, top := b.limit*paceReserve, b.limit*paceTop
		switch {
		case b.level < reserve+0.25:
			return 0, now.Add(seconds((reserve + 0.25 - b.level) / b.rate))
		case b.level < top:
			return seconds((top - reserve) / (b.rate * (b.level - reserve))), time.Time{}
		}
		return seconds(1 / (b.rate + (b.level-top)/spendTime.Seconds())), time.Time{}
	}
	spread := b.level / max(b.resetAt.Sub(now).Seconds(), 1)
	above := max(b.level-b.limit/2, 0) / spendTime.Seconds()
	return seconds(1 / (spread + above)), time.Time{}
}

// take charges one request when the budget has one, and otherwise says
// when it will (or, past a fixed window's reset with answers on their way,
// when to look again for their word).
func (b *budget) take(now time.Time, inFlight int) (time.Time, bool) {
	if !b.known {
		return time.Time{}, true
	}
	b.advance(now)
	if b.level >= 1 {
		gap, until := b.gap(now)
		if !until.IsZero() {
			return until, false
		}
		if gap > 0 {
			if now.Before(b.next) {
				return b.next, false
			}
			b.next = now.Add(gap)
		}
		b.level--
		return time.Time{}, true
	}
	if b.rate > 0 {
		return now.Add(seconds((1 - b.level) / b.rate)), false
	}
	if !b.resetAt.IsZero() {
		return b.resetAt, false
	}
	// Past the reset, and spent again by this client's own count: only
	// an answer can say more. With none on its way, none will come unless
	// a request goes.
	if inFlight > 0 {
		return now.Add(answerLook), false
	}
	b.level--
	return time.Time{}, true
}
