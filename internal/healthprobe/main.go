// Command healthprobe is the container image's health check: the image is FROM scratch, with no
// shell, curl or wget, so HEALTHCHECK runs this instead. It GETs the emulator's health endpoint and
// exits 0 when the answer is 200 with {"status":"ok"}, 1 otherwise (unreachable, another status, a
// body that is not that JSON, or no answer within 3 seconds).
//
//	healthprobe [URL]
//
// The URL is, in order: the argument; DYNLOCAL_HEALTH_URL; http://127.0.0.1:<port>/_emulator/health
// with the port of DYNLOCAL_ADDR (the emulator's own --addr fallback, which the image sets), so that
// `docker run -e DYNLOCAL_ADDR=0.0.0.0:9000` keeps the check working; or
// http://127.0.0.1:8080/_emulator/health.
//
// It uses the standard library only (and not net/http, to stay small), ignores proxy variables,
// and is built statically (see Dockerfile and docs/container.md).
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strings"
	"time"
)

// defaultURL is the health endpoint of an emulator listening on the image's address.
const defaultURL = "http://127.0.0.1:8080/_emulator/health"

// timeout bounds the whole probe: connecting, sending and reading the answer.
const timeout = 3 * time.Second

// maxAnswer bounds what is read of the answer; the emulator's is well under 1 KB.
const maxAnswer = 64 << 10

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// run probes the URL chosen from args and the environment and returns the exit status.
func run(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) > 1 {
		fmt.Fprintln(stderr, "usage: healthprobe [URL]")
		return 2
	}
	target := healthURL(args, getenv)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := probe(ctx, target); err != nil {
		fmt.Fprintf(stderr, "healthprobe: %s: %v\n", target, err)
		return 1
	}
	fmt.Fprintf(stdout, "healthprobe: %s: ok\n", target)
	return 0
}

// healthURL is the URL to probe: the argument, DYNLOCAL_HEALTH_URL, the loopback URL of
// DYNLOCAL_ADDR's port, or defaultURL.
func healthURL(args []string, getenv func(string) string) string {
	if len(args) == 1 && args[0] != "" {
		return args[0]
	}
	if u := getenv("DYNLOCAL_HEALTH_URL"); u != "" {
		return u
	}
	if u := fromAddr(getenv("DYNLOCAL_ADDR")); u != "" {
		return u
	}
	return defaultURL
}

// fromAddr is the health URL of an emulator listening on addr (host:port): a wildcard or empty
// host is reached on loopback. It is "" when addr has no usable port (none, or 0 for any free
// one, which the probe cannot know).
func fromAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || port == "" || port == "0" {
		return ""
	}
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::":
		host = "::1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/_emulator/health"
}

// probe GETs url and checks for 200 and {"status":"ok"}. It speaks HTTP/1.0 over a plain
// connection rather than through net/http, which would more than double the size of the binary; the emulator
// answers an HTTP/1.0 request with a body that ends when the connection closes.
func probe(ctx context.Context, rawURL string) error {
	u, err := url.Parse(rawURL)
	if err != nil {
		return err
	}
	if u.Scheme != "http" || u.Host == "" {
		return fmt.Errorf("not an http://host[:port]/path URL")
	}
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), "80")
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	if deadline, ok := ctx.Deadline(); ok {
		if err := conn.SetDeadline(deadline); err != nil {
			return err
		}
	}
	if _, err := fmt.Fprintf(conn, "GET %s HTTP/1.0\r\nHost: %s\r\nUser-Agent: dynlocal-healthprobe\r\nAccept: application/json\r\n\r\n", u.RequestURI(), u.Host); err != nil {
		return err
	}
	r := bufio.NewReader(io.LimitReader(conn, maxAnswer))
	line, err := r.ReadString('\n')
	if err != nil {
		return fmt.Errorf("reading the status line: %v", err)
	}
	proto, status, _ := strings.Cut(strings.TrimRight(line, "\r\n"), " ")
	if !strings.HasPrefix(proto, "HTTP/1.") {
		return fmt.Errorf("not an HTTP answer: %q", line)
	}
	if code, _, _ := strings.Cut(status, " "); code != "200" {
		return fmt.Errorf("status %s", status)
	}
	for { // the headers, up to the empty line
		line, err := r.ReadString('\n')
		if err != nil {
			return fmt.Errorf("reading the headers: %v", err)
		}
		if strings.TrimRight(line, "\r\n") == "" {
			break
		}
	}
	body, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("reading the body: %v", err)
	}
	var h struct {
		Status string `json:"status"`
	}
	if err := json.Unmarshal(body, &h); err != nil {
		return fmt.Errorf("answer is not JSON: %v", err)
	}
	if h.Status != "ok" {
		return fmt.Errorf("status %q, want \"ok\"", h.Status)
	}
	return nil
}
