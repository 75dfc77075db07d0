package emulator

import (
	"fmt"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dynlocal/dynlocal/emulator/dverr"
)

// Limits are Dataverse's service protection limits, applied per user over a sliding window:
// requests, their combined execution time, and requests at once. A request beyond one is answered
// 429 with Retry-After and the limit's documented code and message.
type Limits struct {
	// Requests is the most requests a user may make in a Window; 0 is no limit.
	Requests int
	// ExecutionTime is the most combined execution time of a user's requests in a Window; 0 is
	// no limit.
	ExecutionTime time.Duration
	// Concurrent is the most requests of a user at once; 0 is no limit.
	Concurrent int
	// Window is the sliding window (Dataverse: five minutes).
	Window time.Duration
}

// DataverseLimits are the documented numbers: 6,000 requests and 20 minutes of execution time per
// user in a sliding five-minute window, and 52 requests at once.
func DataverseLimits() Limits {
	return Limits{Requests: 6000, ExecutionTime: 20 * time.Minute, Concurrent: 52, Window: 5 * time.Minute}
}

// Scaled returns the limits multiplied by f, the window included, so that a test reaches them in
// moments (at least one request, one request at once and one millisecond each).
func (l Limits) Scaled(f float64) Limits {
	scale := func(n int) int {
		if n == 0 {
			return 0
		}
		return max(1, int(math.Round(float64(n)*f)))
	}
	dur := func(d time.Duration) time.Duration {
		if d == 0 {
			return 0
		}
		return max(time.Millisecond, time.Duration(float64(d)*f))
	}
	return Limits{Requests: scale(l.Requests), ExecutionTime: dur(l.ExecutionTime), Concurrent: scale(l.Concurrent), Window: dur(l.Window)}
}

// ParseLimits reads the --limits flag: "off", "dataverse" or "scale=F" (Dataverse's numbers times
// F, window included).
func ParseLimits(s string) (*Limits, error) {
	switch {
	case s == "" || s == "off":
		return nil, nil
	case s == "dataverse":
		l := DataverseLimits()
		return &l, nil
	case strings.HasPrefix(s, "scale="):
		f, err := strconv.ParseFloat(strings.TrimPrefix(s, "scale="), 64)
		if err != nil || f <= 0 || math.IsInf(f, 0) {
			return nil, fmt.Errorf("limits %q: the scale must be a positive number, such as scale=0.001", s)
		}
		l := DataverseLimits().Scaled(f)
		return &l, nil
	}
	return nil, fmt.Errorf("limits %q: want off, dataverse or scale=F", s)
}

// limiter counts each user's requests.
type limiter struct {
	l     Limits
	clock func() time.Time

	mu    sync.Mutex
	users map[string]*userLoad
}

type userLoad struct {
	starts   []time.Time // requests admitted in the window
	done     []doneRequest
	inFlight int
}

// window drops the requests that started, and the execution times that ended, before since,
// and returns the execution time left in the window.
func (u *userLoad) window(since time.Time) time.Duration {
	for len(u.starts) > 0 && !u.starts[0].After(since) {
		u.starts = u.starts[1:]
	}
	for len(u.done) > 0 && !u.done[0].at.After(since) {
		u.done = u.done[1:]
	}
	var busy time.Duration
	for _, d := range u.done {
		busy += d.dur
	}
	return busy
}

type doneRequest struct {
	at  time.Time
	dur time.Duration
}

func newLimiter(l *Limits, clock func() time.Time) *limiter {
	if l == nil {
		return nil
	}
	return &limiter{l: *l, clock: clock, users: map[string]*userLoad{}}
}

// limitsKey marks a request already counted, so that the parts of its $batch are not.
type limitsKey struct{}

// admit counts a request of user, or refuses it with Dataverse's 429. The returned function
// ends the request.
func (lm *limiter) admit(user string) (func(), error) {
	now := lm.clock()
	lm.mu.Lock()
	defer lm.mu.Unlock()
	u := lm.users[user]
	if u == nil {
		u = &userLoad{}
		lm.users[user] = u
	}
	busy := u.window(now.Add(-lm.l.Window))
	switch {
	case lm.l.Concurrent > 0 && u.inFlight >= lm.l.Concurrent:
		return nil, throttled(time.Second, "0x80072326", "Number of concurrent requests exceeded the limit of %d.", lm.l.Concurrent)
	case lm.l.Requests > 0 && len(u.starts) >= lm.l.Requests:
		return nil, throttled(u.starts[0].Add(lm.l.Window).Sub(now), "0x80072322",
			"Number of requests exceeded the limit of %d over time window of %d seconds.", lm.l.Requests, windowSeconds(lm.l.Window))
	case lm.l.ExecutionTime > 0 && busy >= lm.l.ExecutionTime:
		return nil, throttled(u.done[0].at.Add(lm.l.Window).Sub(now), "0x80072321",
			"Combined execution time of incoming requests exceeded limit of %s milliseconds over time window of %d seconds. "+
				"Decrease number of concurrent requests or reduce the duration of requests and try again later.",
			thousands(lm.l.ExecutionTime.Milliseconds()), windowSeconds(lm.l.Window))
	}
	u.starts = append(u.starts, now)
	u.inFlight++
	return func() {
		end := lm.clock()
		lm.mu.Lock()
		u.inFlight--
		u.done = append(u.done, doneRequest{at: end, dur: end.Sub(now)})
		lm.mu.Unlock()
	}, nil
}

// throttled is Dataverse's 429: Retry-After in whole seconds, at least one.
func throttled(wait time.Duration, code, format string, args ...any) error {
	e := dverr.New(http.StatusTooManyRequests, code, format, args...)
	e.Header = http.Header{}
	e.Header.Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(wait.Seconds())))))
	return e
}

func windowSeconds(d time.Duration) int { return max(1, int(math.Round(d.Seconds()))) }

// thousands writes n with comma separators, as Dataverse's message does (1,200,000).
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// LimitsInfo is what GET /_emulator/limits answers: the limits in force (all zero and Enabled
// false when none are) and each user's load in the current window.
type LimitsInfo struct {
	Enabled         bool       `json:"enabled"`
	Requests        int        `json:"requests"`
	ExecutionTimeMs int64      `json:"executionTimeMs"`
	Concurrent      int        `json:"concurrent"`
	WindowSeconds   int        `json:"windowSeconds"`
	Users           []UserLoad `json:"users"`
}

// UserLoad is one user's use of the limits in the current window.
type UserLoad struct {
	Caller          string `json:"caller"`
	Requests        int    `json:"requests"`
	ExecutionTimeMs int64  `json:"executionTimeMs"`
	InFlight        int    `json:"inFlight"`
}

// info reports the limits and the users' load now; a nil limiter reports none.
func (lm *limiter) info() LimitsInfo {
	out := LimitsInfo{Users: []UserLoad{}}
	if lm == nil {
		return out
	}
	out.Enabled, out.Requests, out.Concurrent = true, lm.l.Requests, lm.l.Concurrent
	out.ExecutionTimeMs, out.WindowSeconds = lm.l.ExecutionTime.Milliseconds(), windowSeconds(lm.l.Window)
	since := lm.clock().Add(-lm.l.Window)
	lm.mu.Lock()
	defer lm.mu.Unlock()
	for id, u := range lm.users {
		busy := u.window(since)
		ul := UserLoad{Caller: id, InFlight: u.inFlight, Requests: len(u.starts), ExecutionTimeMs: busy.Milliseconds()}
		if ul.Requests > 0 || ul.InFlight > 0 {
			out.Users = append(out.Users, ul)
		}
	}
	sort.Slice(out.Users, func(i, j int) bool { return out.Users[i].Caller < out.Users[j].Caller })
	return out
}
