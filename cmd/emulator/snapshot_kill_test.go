package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/dynlocal/dynlocal/emulator"
)

// killedEmulator is an emulator process started on a data directory, which the test ends with
// SIGKILL, as a crash or an impatient user would.
type killedEmulator struct {
	cmd    *exec.Cmd
	url    string
	token  string
	exited chan struct{}
}

var bannerURL = regexp.MustCompile(`Web API:\s+(http://127\.0\.0\.1:\d+)/api/data/v9\.2/`)

// startOnDir starts bin on dir and waits for its banner (at most a minute: the first start loads
// the fixtures into the directory).
func startOnDir(t *testing.T, bin, dir string) *killedEmulator {
	t.Helper()
	cmd := exec.Command(bin, "--data", dir, "--addr", "127.0.0.1:0", "--log-level", "error")
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DYNLOCAL_") {
			env = append(env, kv)
		}
	}
	cmd.Env = append(env, "DYNLOCAL_CACHE_DIR=off")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	e := &killedEmulator{cmd: cmd, exited: make(chan struct{})}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if m := bannerURL.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
		io.Copy(io.Discard, out)
	}()
	go func() { cmd.Wait(); close(e.exited) }()
	t.Cleanup(e.kill)
	select {
	case e.url = <-found:
	case <-e.exited:
		t.Fatal("the emulator exited before it was ready")
	case <-time.After(time.Minute):
		t.Fatal("the emulator printed no Web API URL")
	}
	form := url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {emulator.DefaultClientID},
		"client_secret": {emulator.DefaultClientSecret},
		"scope":         {e.url + "/.default"},
	}
	resp, err := http.PostForm(e.url+"/"+emulator.DefaultTenantID+"/oauth2/v2.0/token", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("token: status %d, %v", resp.StatusCode, err)
	}
	e.token = tok.AccessToken
	return e
}

// kill sends SIGKILL and waits for the process to be gone.
func (e *killedEmulator) kill() {
	_ = e.cmd.Process.Kill()
	<-e.exited
}

func (e *killedEmulator) do(t *testing.T, method, path, body string) (int, string) {
	t.Helper()
	u := e.url + path
	if !strings.HasPrefix(path, "/_emulator") {
		u = e.url + "/api/data/v9.2/" + path
	}
	req, _ := http.NewRequest(method, u, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+e.token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// markers counts the accounts the test wrote.
func (e *killedEmulator) markers(t *testing.T) string {
	t.Helper()
	code, body := e.do(t, "GET", "accounts?$select=name&$filter=startswith(name,'kill-test-')&$count=true", "")
	if code != 200 {
		t.Fatalf("count markers: %d %s", code, body)
	}
	var m struct {
		Count json.Number `json:"@odata.count"`
	}
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatal(err)
	}
	return m.Count.String()
}

// The emulator is killed with SIGKILL while it saves the snapshot p, at a different moment each
// round (the first as soon as the save's temporary file appears). Whatever the moment: after a
// restart the rows written before are there, p is either absent or restores completely, nothing
// of the interrupted save is left in the directory, and a damaged snapshot file is refused
// without touching the data.
func TestSnapshotSurvivesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts the emulator binary")
	}
	if runtime.GOOS == "windows" {
		t.Skip("SIGKILL")
	}
	bin := filepath.Join(t.TempDir(), "emulator")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	dir := t.TempDir()
	snaps := filepath.Join(dir, "snapshots")

	e := startOnDir(t, bin, dir)
	const rows = 20
	for i := range rows {
		if code, body := e.do(t, "POST", "accounts", fmt.Sprintf(`{"name":"kill-test-%d","description":%q}`, i, strings.Repeat("x", 1900))); code != 204 {
			t.Fatalf("create: %d %s", code, body)
		}
	}
	want := e.markers(t)
	if want != fmt.Sprint(rows) {
		t.Fatalf("markers = %s, want %d", want, rows)
	}

	delays := []time.Duration{-1, 0, time.Millisecond, 5 * time.Millisecond, 20 * time.Millisecond, 200 * time.Millisecond}
	for round, delay := range delays {
		saved := make(chan struct{})
		go func() {
			defer close(saved)
			req, _ := http.NewRequest("PUT", e.url+"/_emulator/snapshots/p", nil)
			if resp, err := http.DefaultClient.Do(req); err == nil {
				resp.Body.Close()
			}
		}()
		if delay < 0 {
			// Kill as soon as the save's temporary file exists, or when the save is over.
		wait:
			for {
				select {
				case <-saved:
					break wait
				default:
				}
				if entries, _ := os.ReadDir(snaps); len(entries) > 0 && hasTemp(entries) {
					break
				}
				runtime.Gosched()
			}
		} else {
			time.Sleep(delay)
		}
		e.kill()
		<-saved

		e = startOnDir(t, bin, dir)
		if got := e.markers(t); got != want {
			t.Fatalf("round %d: %s marker rows after the restart, want %s", round, got, want)
		}
		if entries, err := os.ReadDir(snaps); err == nil && hasTemp(entries) {
			t.Errorf("round %d: an interrupted save was left in %s", round, snaps)
		}
		code, body := e.do(t, "GET", "/_emulator/snapshots", "")
		if code != 200 {
			t.Fatalf("round %d: list: %d %s", round, code, body)
		}
		if strings.Contains(body, `"p"`) {
			if code, body := e.do(t, "POST", "/_emulator/snapshots/p/restore", ""); code != 204 {
				t.Fatalf("round %d: restore of a listed snapshot: %d %s", round, code, body)
			}
			if got := e.markers(t); got != want {
				t.Fatalf("round %d: %s marker rows after the restore, want %s", round, got, want)
			}
		}
		t.Logf("round %d: snapshot p present after the kill: %v", round, strings.Contains(body, `"p"`))
	}

	// A damaged file under a snapshot's final name (what a save in place used to leave) is refused.
	if err := os.MkdirAll(snaps, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string][]byte{"empty": nil, "cut": make([]byte, 8192)} {
		if err := os.WriteFile(filepath.Join(snaps, name+".sqlite"), content, 0o644); err != nil {
			t.Fatal(err)
		}
		code, body := e.do(t, "POST", "/_emulator/snapshots/"+name+"/restore", "")
		if code != 409 || !strings.Contains(body, `"error"`) {
			t.Errorf("restore of %s: %d %s, want 409 with an error body", name, code, body)
		}
		if got := e.markers(t); got != want {
			t.Fatalf("%s: %s marker rows after a refused restore, want %s", name, got, want)
		}
	}
	// The data survives one more crash and restart.
	e.kill()
	e = startOnDir(t, bin, dir)
	if got := e.markers(t); got != want {
		t.Fatalf("%s marker rows after the last restart, want %s", got, want)
	}
}

func hasTemp(entries []os.DirEntry) bool {
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".tmp-") {
			return true
		}
	}
	return false
}
