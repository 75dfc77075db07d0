// Command soak runs the emulator under a mixed load for a while and reports, every interval, its
// resident memory, open file descriptors, goroutines and the p99 latency of the requests of that
// interval; at the end it checks that every write the emulator acknowledged is there.
//
//	go run ./tools/soak --duration 10m
//
// The load: reads by id, creates, updates, collection queries, FetchXML queries and $batch change
// sets from several workers; an asynchronous webhook step on account creation whose endpoint answers
// slowly, and a synchronous one on account update whose endpoint takes a while too (the update
// waits for it; nobody else should); a snapshot saved every 30 seconds. The emulator runs as a separate process on a data
// directory of its own, built from this module.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const (
	tenant   = "4d2c9a10-5e1f-4b7a-9c3d-0000000000f0"
	clientID = "4d2c9a10-5e1f-4b7a-9c3d-0000000000c0"
	secret   = "dynlocal-dev-secret"
)

func main() {
	duration := flag.Duration("duration", 10*time.Minute, "how long to run the load")
	interval := flag.Duration("interval", 10*time.Second, "how often to sample")
	workers := flag.Int("workers", 8, "concurrent request loops")
	hookDelay := flag.Duration("hook-delay", 2*time.Second, "how long the asynchronous webhook endpoint takes to answer")
	syncDelay := flag.Duration("sync-hook-delay", 200*time.Millisecond, "how long the synchronous webhook endpoint takes to answer")
	flag.Parse()
	if err := run(*duration, *interval, *workers, *hookDelay, *syncDelay); err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
}

type soak struct {
	api, token string
	hc         *http.Client

	mu            sync.Mutex
	latencies     []time.Duration
	readLatencies []time.Duration // of reads by id, which no webhook should slow down
	ids           []string
	errors        map[string]int

	acked    atomic.Int64 // accounts whose creation was acknowledged
	requests atomic.Int64
}

func run(duration, interval time.Duration, workers int, hookDelay, syncDelay time.Duration) error {
	dir, err := os.MkdirTemp("", "dynlocal-soak-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "dynlocal")
	build := exec.Command("go", "build", "-o", bin, "./cmd/emulator")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("build the emulator: %w", err)
	}
	port, err := freePort()
	if err != nil {
		return err
	}
	base := "http://127.0.0.1:" + port
	emu := exec.Command(bin, "--addr", "127.0.0.1:"+port, "--data", filepath.Join(dir, "data"), "--log-level", "warn", "--cache-dir", "off")
	emu.Stdout, emu.Stderr = io.Discard, os.Stderr
	if err := emu.Start(); err != nil {
		return err
	}
	defer func() { emu.Process.Kill(); emu.Wait() }()
	s := &soak{api: base + "/api/data/v9.2/", hc: &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}, errors: map[string]int{}}
	if err := waitHealthy(s.hc, base); err != nil {
		return err
	}
	if s.token, err = getToken(s.hc, base); err != nil {
		return err
	}

	// The slow webhook endpoint, with an asynchronous step on account creation posting to it and
	// a synchronous one on account update posting to /sync, which answers after syncDelay.
	var hooks, syncHooks atomic.Int64
	hook := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if r.URL.Path == "/sync" {
			time.Sleep(syncDelay)
			syncHooks.Add(1)
			return
		}
		time.Sleep(hookDelay)
		hooks.Add(1)
	})}
	hl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	go hook.Serve(hl)
	defer hook.Close()
	hookURL := "http://" + hl.Addr().String()
	if err := s.registerHook("soak: Create of account", hookURL+"/hook", 40, 1, "4d2c9a10-5e1f-4b7a-9c3d-200000000001", "4d2c9a10-5e1f-4b7a-9c3d-210000000001"); err != nil {
		return fmt.Errorf("register the webhook: %w", err)
	}
	if err := s.registerHook("soak: Update of account", hookURL+"/sync", 20, 0, "4d2c9a10-5e1f-4b7a-9c3d-200000000002", "4d2c9a10-5e1f-4b7a-9c3d-210000000009"); err != nil {
		return fmt.Errorf("register the webhook: %w", err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), duration)
	defer cancel()
	var wg sync.WaitGroup
	for i := range workers {
		wg.Go(func() { s.worker(ctx, i) })
	}
	wg.Go(func() {
		for n := 0; ; n++ {
			select {
			case <-ctx.Done():
				return
			case <-time.After(30 * time.Second):
			}
			s.call("snapshot", http.MethodPut, base+"/_emulator/snapshots/soak-"+strconv.Itoa(n%3), nil, nil)
		}
	})

	fmt.Printf("| t | requests | RSS MiB | open fds | goroutines | p99 ms | p99 reads by id ms | async / sync webhook calls answered |\n|---|---|---|---|---|---|---|---|\n")
	start := time.Now()
	tick := time.NewTicker(interval)
	for done := false; !done; {
		select {
		case <-ctx.Done():
			done = true
		case <-tick.C:
		}
		s.mu.Lock()
		lat, reads := s.latencies, s.readLatencies
		s.latencies, s.readLatencies = nil, nil
		s.mu.Unlock()
		fmt.Printf("| %s | %d | %.1f | %d | %s | %.1f | %.1f | %d / %d |\n", time.Since(start).Round(time.Second), s.requests.Load(),
			rssMiB(emu.Process.Pid), openFDs(emu.Process.Pid), goroutines(s.hc, base), p99(lat), p99(reads), hooks.Load(), syncHooks.Load())
	}
	wg.Wait()

	// Every acknowledged create must be a row.
	n, err := s.countSoakAccounts()
	if err != nil {
		return err
	}
	fmt.Printf("\nacknowledged account creates: %d; rows: %d\n", s.acked.Load(), n)
	if len(s.errors) > 0 {
		fmt.Printf("errors by kind: %v\n", s.errors)
	}
	if n != s.acked.Load() {
		return fmt.Errorf("%d acknowledged creates but %d rows", s.acked.Load(), n)
	}
	return nil
}

// worker sends a mix of requests until ctx ends.
func (s *soak) worker(ctx context.Context, w int) {
	rng := rand.New(rand.NewPCG(uint64(w), 7))
	for ctx.Err() == nil {
		switch p := rng.IntN(100); {
		case p < 35:
			if id := s.randomID(rng); id != "" {
				s.call("get", http.MethodGet, s.api+"accounts("+id+")?$select=name,revenue", nil, nil)
			}
		case p < 55:
			s.create(fmt.Sprintf("soak %d-%d", w, rng.Int()))
		case p < 65:
			if id := s.randomID(rng); id != "" {
				s.call("update", http.MethodPatch, s.api+"accounts("+id+")", map[string]any{"revenue": rng.IntN(1000000)}, nil)
			}
		case p < 80:
			s.call("query", http.MethodGet, s.api+"accounts?$select=name&$filter=startswith(name,'soak')&$orderby=name", nil, map[string]string{"Prefer": "odata.maxpagesize=50"})
		case p < 90:
			fx := url.QueryEscape(`<fetch count="20"><entity name="account"><attribute name="name"/><filter><condition attribute="name" operator="like" value="soak%"/></filter></entity></fetch>`)
			s.call("fetchxml", http.MethodGet, s.api+"accounts?fetchXml="+fx, nil, nil)
		default:
			s.batch(w, rng)
		}
	}
}

func (s *soak) create(name string) {
	resp, ok := s.call("create", http.MethodPost, s.api+"accounts", map[string]any{"name": name}, nil)
	if ok && resp.StatusCode == http.StatusNoContent {
		s.acked.Add(1)
		s.remember(idOf(resp.Header.Get("OData-EntityId")))
	}
}

var entityIDPattern = regexp.MustCompile(`accounts\(([0-9a-f-]{36})\)`)

// batch sends a change set of ten creates; each acknowledged one counts.
func (s *soak) batch(w int, rng *rand.Rand) {
	var b strings.Builder
	b.WriteString("--batch_s\r\nContent-Type: multipart/mixed; boundary=cs_s\r\n\r\n")
	for i := range 10 {
		fmt.Fprintf(&b, "--cs_s\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nContent-ID: %d\r\n\r\nPOST %saccounts HTTP/1.1\r\nContent-Type: application/json\r\n\r\n{\"name\":\"soak batch %d-%d-%d\"}\r\n", i+1, s.api, w, rng.Int(), i)
	}
	b.WriteString("--cs_s--\r\n--batch_s--\r\n")
	req, _ := http.NewRequest(http.MethodPost, s.api+"$batch", strings.NewReader(b.String()))
	req.Header.Set("Content-Type", "multipart/mixed; boundary=batch_s")
	resp, body, ok := s.do("batch", req)
	if !ok || resp.StatusCode != http.StatusOK {
		return
	}
	ids := entityIDPattern.FindAllStringSubmatch(string(body), -1)
	if strings.Count(string(body), "HTTP/1.1 204") == 10 {
		s.acked.Add(10)
		for _, m := range ids {
			s.remember(m[1])
		}
	}
}

func (s *soak) call(kind, method, u string, body any, headers map[string]string) (*http.Response, bool) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, u, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, _, ok := s.do(kind, req)
	return resp, ok
}

// do sends a request with the token, reads the answer, and records its latency and failures.
func (s *soak) do(kind string, req *http.Request) (*http.Response, []byte, bool) {
	req.Header.Set("Authorization", "Bearer "+s.token)
	start := time.Now()
	resp, err := s.hc.Do(req)
	if err != nil {
		s.fail(kind + ": " + err.Error())
		return nil, nil, false
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	d := time.Since(start)
	s.requests.Add(1)
	s.mu.Lock()
	s.latencies = append(s.latencies, d)
	if kind == "get" {
		s.readLatencies = append(s.readLatencies, d)
	}
	s.mu.Unlock()
	if err != nil {
		s.fail(kind + ": " + err.Error())
		return resp, nil, false
	}
	if resp.StatusCode >= 400 {
		s.fail(fmt.Sprintf("%s: %d", kind, resp.StatusCode))
	}
	return resp, body, true
}

func (s *soak) fail(kind string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(kind) > 120 {
		kind = kind[:120]
	}
	s.errors[kind]++
}

func (s *soak) remember(id string) {
	if id == "" {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.ids) < 10000 {
		s.ids = append(s.ids, id)
	} else {
		s.ids[rand.IntN(len(s.ids))] = id
	}
}

func (s *soak) randomID(rng *rand.Rand) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.ids) == 0 {
		return ""
	}
	return s.ids[rng.IntN(len(s.ids))]
}

// registerHook registers a webhook endpoint and a step on it for a message and table (the
// fixtures' sdkmessage and sdkmessagefilter ids).
func (s *soak) registerHook(name, target string, stage, mode int, message, filter string) error {
	resp, ok := s.call("setup", http.MethodPost, s.api+"serviceendpoints", map[string]any{
		"name": name, "contract": 8, "url": target, "authtype": 4, "authvalue": "soak", "messageformat": 2}, nil)
	if !ok || resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("serviceendpoint: %v", resp)
	}
	ep := idOf(resp.Header.Get("OData-EntityId"))
	resp, ok = s.call("setup", http.MethodPost, s.api+"sdkmessageprocessingsteps", map[string]any{
		"name": name, "stage": stage, "mode": mode, "rank": 1,
		"sdkmessageid@odata.bind":                 "/sdkmessages(" + message + ")",
		"sdkmessagefilterid@odata.bind":           "/sdkmessagefilters(" + filter + ")",
		"eventhandler_serviceendpoint@odata.bind": "/serviceendpoints(" + ep + ")"}, nil)
	if !ok || resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("step: %v", resp)
	}
	return nil
}

func (s *soak) countSoakAccounts() (int64, error) {
	req, _ := http.NewRequest(http.MethodGet, s.api+"accounts/$count?$filter="+url.QueryEscape("startswith(name,'soak')"), nil)
	resp, body, ok := s.do("count", req)
	if !ok || resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("count: %v %s", resp, body)
	}
	return strconv.ParseInt(strings.TrimSpace(strings.TrimPrefix(string(body), "\ufeff")), 10, 64)
}

func idOf(entityID string) string {
	i := strings.LastIndexByte(entityID, '(')
	if i < 0 || !strings.HasSuffix(entityID, ")") {
		return ""
	}
	return entityID[i+1 : len(entityID)-1]
}

func p99(lat []time.Duration) float64 {
	if len(lat) == 0 {
		return 0
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	return float64(lat[len(lat)*99/100].Microseconds()) / 1000
}

func rssMiB(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
			return kb / 1024
		}
	}
	return -1
}

func openFDs(pid int) int {
	entries, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return -1
	}
	return len(entries)
}

// goroutines reads the goroutine count from the health answer, when the emulator reports it.
func goroutines(hc *http.Client, base string) string {
	resp, err := hc.Get(base + "/_emulator/health")
	if err != nil {
		return "?"
	}
	defer resp.Body.Close()
	var h struct {
		Goroutines *int `json:"goroutines"`
	}
	if json.NewDecoder(resp.Body).Decode(&h) != nil || h.Goroutines == nil {
		return "?"
	}
	return strconv.Itoa(*h.Goroutines)
}

func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	return port, nil
}

func waitHealthy(hc *http.Client, base string) error {
	for range 300 {
		if resp, err := hc.Get(base + "/_emulator/health"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("the emulator did not answer /_emulator/health")
}

func getToken(hc *http.Client, base string) (string, error) {
	resp, err := hc.PostForm(base+"/"+tenant+"/oauth2/v2.0/token", url.Values{
		"grant_type": {"client_credentials"}, "client_id": {clientID}, "client_secret": {secret}, "scope": {base + "/.default"}})
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var body struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || body.AccessToken == "" {
		return "", fmt.Errorf("token: %d %v", resp.StatusCode, err)
	}
	return body.AccessToken, nil
}
