package contracts

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"time"

	"github.com/dynlocal/dynlocal/client"
)

// throttleInput describes a call the client makes to a loopback server that throttles it: the
// server answers the first throttles requests with 429 Too Many Requests (and Retry-After when
// retryAfter is set), then succeeds. call is "Do" (a request with method, default GET) or "Batch"
// (one create in a change set). delay, throttleRetries and maxDelay set the client's RetryPolicy
// (delay and maxDelay as Go durations such as "10ms").
//
// The step never talks to the target: the emulator does not throttle, and a tenant cannot be made
// to. It checks the client's side of the contract, which Dataverse documents: a 429 is answered
// before the request runs, carries Retry-After, and a client should wait that long and try again.
type throttleInput struct {
	Call            string `json:"call,omitempty"`
	Method          string `json:"method,omitempty"`
	Throttles       int    `json:"throttles"`
	RetryAfter      string `json:"retryAfter,omitempty"`
	ThrottleRetries int    `json:"throttleRetries,omitempty"`
	Delay           string `json:"delay,omitempty"`
	MaxDelay        string `json:"maxDelay,omitempty"`
}

func (in *throttleInput) policy() (client.RetryPolicy, error) {
	p := client.RetryPolicy{ThrottleRetries: in.ThrottleRetries}
	for _, f := range []struct {
		text string
		dst  *time.Duration
	}{{in.Delay, &p.Delay}, {in.MaxDelay, &p.MaxDelay}} {
		if f.text == "" {
			continue
		}
		d, err := time.ParseDuration(f.text)
		if err != nil {
			return p, err
		}
		*f.dst = d
	}
	return p, nil
}

func init() {
	if _, dup := actions["Throttled"]; dup {
		panic("contracts: action Throttled defined twice")
	}
	actions["Throttled"] = action{
		newInput: func() any { return &throttleInput{} },
		check: func(x any) error {
			in := x.(*throttleInput)
			if in.Call != "" && in.Call != "Do" && in.Call != "Batch" {
				return fmt.Errorf("call %q: want Do or Batch", in.Call)
			}
			if in.Throttles < 0 {
				return errors.New("throttles must not be negative")
			}
			_, err := in.policy()
			return err
		},
		run: func(ctx context.Context, _ *client.Client, x any) observation {
			return runThrottled(ctx, x.(*throttleInput))
		},
	}
}

// runThrottled makes the call and shows the final answer's status and headers, and as body
// {"requests": n, "methods": [...], "sameBody": bool, "error": {"code", "message"}}: how many
// requests reached the server, their methods, whether every one carried the same body, and the
// error the client returned, if any.
func runThrottled(ctx context.Context, in *throttleInput) observation {
	policy, err := in.policy()
	if err != nil {
		return observation{err: err}
	}
	var mu sync.Mutex
	var methods []any
	var bodies []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		methods = append(methods, r.Method)
		bodies = append(bodies, string(b))
		n := len(methods)
		mu.Unlock()
		if n <= in.Throttles {
			if in.RetryAfter != "" {
				w.Header().Set("Retry-After", in.RetryAfter)
			}
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.WriteHeader(http.StatusTooManyRequests)
			io.WriteString(w, `{"error":{"code":"0x80072322","message":"Number of requests exceeded the limit of 6000 over time window of 300 seconds."}}`)
			return
		}
		if in.Call == "Batch" {
			w.Header().Set("Content-Type", "multipart/mixed; boundary=batchresponse_t")
			io.WriteString(w, "--batchresponse_t\r\nContent-Type: multipart/mixed; boundary=changesetresponse_t\r\n\r\n"+
				"--changesetresponse_t\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nContent-ID: 1\r\n\r\n"+
				"HTTP/1.1 204 No Content\r\nOData-EntityId: "+"http://"+r.Host+"/api/data/v9.2/accounts(00000000-0000-4000-8000-000000000001)\r\n\r\n"+
				"\r\n--changesetresponse_t--\r\n--batchresponse_t--\r\n")
			return
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		io.WriteString(w, `{"value":[]}`)
	}))
	defer srv.Close()
	c, err := client.New(srv.URL, client.WithHTTPClient(srv.Client()), client.WithStaticToken("loopback"), client.WithRetry(policy))
	if err != nil {
		return observation{err: err}
	}

	var resp *client.Response
	switch in.Call {
	case "Batch":
		_, resp, err = c.Batch(ctx, []client.BatchAction{{Collection: "accounts", Action: "create", Data: client.Record{"name": "throttled"}}}, nil)
	default:
		method := in.Method
		if method == "" {
			method = http.MethodGet
		}
		rr := &client.RawRequest{Method: method, Path: "/api/data/v9.2/accounts"}
		if method == http.MethodPost || method == http.MethodPatch {
			rr.JSON = map[string]any{"name": "throttled"}
		}
		var res *client.RawResponse
		res, err = c.Do(ctx, rr)
		if res != nil {
			resp = res.Response
		}
	}
	obs := observeRecord(nil, resp, err)
	if obs.err != nil {
		return obs
	}
	mu.Lock()
	defer mu.Unlock()
	same := true
	for _, b := range bodies {
		same = same && b == bodies[0]
	}
	body := map[string]any{"requests": json.Number(strconv.Itoa(len(methods))), "methods": methods, "sameBody": same}
	if e, ok := obs.body.(map[string]any); ok && e["error"] != nil {
		body["error"] = e["error"]
	}
	obs.body, obs.hasBody = body, true
	return obs
}
