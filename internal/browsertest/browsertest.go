// Package browsertest starts Debian's headless Chromium for the tests that drive a real browser
// (interop/browser, interop/console): it finds the browser, starts it with a throw-away profile
// that can reach nothing but loopback, and makes sure no process of it is left when the test ends.
package browsertest

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Time limits. Each is far above what a warm machine needs, so that a hang fails the test instead
// of eating CI's budget.
const (
	// BrowserTimeout bounds the browser's whole life, start to close.
	BrowserTimeout = 60 * time.Second
	// closeTimeout bounds a graceful close; then the process is killed.
	closeTimeout = 5 * time.Second
)

// RequireChromium finds Debian's Chromium. A missing browser skips the test on a developer machine
// and fails it under CI=true, where a skip would hide that the check never ran (as in interop/).
func RequireChromium(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"chromium", "/usr/bin/chromium"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium is not installed; CI=true requires the browser tests to run (apt-get install -y --no-install-recommends chromium)")
	}
	t.Skip("chromium is not installed: skipping the browser test (apt-get install -y --no-install-recommends chromium to run it; under CI=true this is a failure)")
	return ""
}

// StartBrowser starts headless Chromium with a throw-away profile, home and temporary directory,
// and closes it when the test ends. It runs the first (blank) tab; pages get tabs of their own
// (chromedp.NewContext of the returned context). The context ends after BrowserTimeout.
//
// The browser must reach nothing but loopback servers: background services, component and sync
// updates are off, no proxy is used, and every host name fails to resolve (the servers are
// addressed as 127.0.0.1, which needs no resolution).
func StartBrowser(t testing.TB, execPath string) context.Context {
	t.Helper()
	dir := t.TempDir()
	profile := filepath.Join(dir, "profile")
	home := filepath.Join(dir, "home")
	tmp := filepath.Join(dir, "tmp")
	for _, d := range []string{profile, home, tmp} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	output := &LockedBuffer{}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(execPath),
		chromedp.UserDataDir(profile),
		chromedp.Headless,
		chromedp.NoSandbox, // the sandbox refuses to run as root, as in containers
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-breakpad", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("no-proxy-server", true),
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"),
		// Only what the browser needs: no proxy variables, no secrets, and a home of its own
		// (whatever the profile directory, Chromium keeps its crash reports under
		// XDG_CONFIG_HOME and a dconf cache under XDG_CACHE_HOME).
		chromedp.NoInheritEnv,
		chromedp.Env("PATH="+os.Getenv("PATH"), "HOME="+home, "TMPDIR="+tmp,
			"XDG_CONFIG_HOME="+filepath.Join(home, ".config"), "XDG_CACHE_HOME="+filepath.Join(home, ".cache")),
		chromedp.CombinedOutput(output),
	}

	ctx, cancelTimeout := context.WithTimeout(context.Background(), BrowserTimeout)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	browserCtx, cancelBrowser := chromedp.NewContext(allocCtx)
	started := false
	t.Cleanup(func() {
		closeCtx, cancel := context.WithTimeout(browserCtx, closeTimeout)
		err := chromedp.Cancel(closeCtx) // a graceful close, waiting for the process to end
		cancel()
		cancelBrowser()
		cancelAlloc() // kills the process if it is still there, and waits for it
		cancelTimeout()
		if err != nil && started {
			t.Errorf("closing Chromium: %v", err)
		}
		// Children (the zygotes) can take a moment to notice that the browser is gone.
		for deadline := time.Now().Add(closeTimeout); ; time.Sleep(20 * time.Millisecond) {
			left := running(dir)
			if len(left) == 0 {
				break
			}
			if time.Now().After(deadline) {
				for _, pid := range left {
					if p, err := os.FindProcess(pid); err == nil {
						_ = p.Kill()
					}
				}
				t.Errorf("Chromium processes still running %s after the browser closed (now killed): %v", closeTimeout, left)
				break
			}
		}
		if t.Failed() {
			t.Logf("Chromium output:\n%s", output.String())
		}
	})

	start := time.Now()
	agent, err := chromedp.Run(browserCtx, chromedp.Evaluate[string]("navigator.userAgent"))
	if err != nil {
		t.Fatalf("start %s: %v\n%s", execPath, err, output.String())
	}
	started = true
	t.Logf("%s started in %s: %s", execPath, time.Since(start).Round(time.Millisecond), agent)
	return browserCtx
}

// running returns the processes with an argument under dir: Chromium passes --user-data-dir to
// every child, and its crash handlers (which the browser starts detached) get a database under
// XDG_CONFIG_HOME. Only Linux is looked at.
func running(dir string) []int {
	if runtime.GOOS != "linux" {
		return nil
	}
	under := []byte(dir + string(filepath.Separator))
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline")) // empty for a zombie
		if err != nil {
			continue
		}
		for _, arg := range bytes.Split(cmdline, []byte{0}) {
			if bytes.Contains(arg, under) {
				pids = append(pids, pid)
				break
			}
		}
	}
	return pids
}

// LockedBuffer is a bytes.Buffer safe for concurrent writes and reads: a place for a process's
// or a logger's output that a test reads while it is written.
type LockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *LockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *LockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
