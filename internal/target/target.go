package target

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/spf13/pflag"

	"github.com/dynlocal/dynlocal/client"
	"github.com/dynlocal/dynlocal/emulator"
)

// Flags are the connection flags as given.
type Flags struct {
	// URL is the org URL of the target; empty starts an in-process emulator.
	URL string
	// TokenURL, ClientID and ClientSecret are the client-credentials grant's endpoint and app.
	TokenURL, ClientID, ClientSecret string
	// Scope defaults to <URL>/.default.
	Scope string
	// Token is a static bearer token used instead of client credentials.
	Token string
}

// Register adds the connection flags to fs, each defaulting to its environment variable as getenv
// reports it.
func (f *Flags) Register(fs *pflag.FlagSet, getenv func(name string) (string, bool)) {
	env := func(name string) string {
		v, _ := getenv(name)
		return v
	}
	fs.StringVar(&f.URL, "target", env("DYNLOCAL_TARGET"), "org URL of the target; empty starts an in-process emulator (DYNLOCAL_TARGET)")
	fs.StringVar(&f.TokenURL, "token-url", env("DYNLOCAL_TOKEN_URL"), "OAuth token endpoint for client credentials (DYNLOCAL_TOKEN_URL)")
	fs.StringVar(&f.ClientID, "client-id", env("DYNLOCAL_CLIENT_ID"), "application (client) id (DYNLOCAL_CLIENT_ID)")
	fs.StringVar(&f.ClientSecret, "client-secret", env("DYNLOCAL_CLIENT_SECRET"), "client secret (DYNLOCAL_CLIENT_SECRET)")
	fs.StringVar(&f.Scope, "scope", env("DYNLOCAL_SCOPE"), "token scope; default <target>/.default (DYNLOCAL_SCOPE)")
	fs.StringVar(&f.Token, "token", env("DYNLOCAL_TOKEN"), "static bearer token instead of client credentials (DYNLOCAL_TOKEN)")
}

// UsageError is an error in the flags themselves (a bad URL, missing credentials), as opposed to a
// target that cannot be used.
type UsageError struct{ Err error }

func (e UsageError) Error() string { return e.Err.Error() }

// Unwrap returns the underlying error.
func (e UsageError) Unwrap() error { return e.Err }

// Resolve checks the flags and returns the connection to use, with credentials filled in: a static
// token alone, client credentials, or the development credentials of an emulator on a loopback
// address. Without a URL it starts an in-process emulator and says so on logf. stop releases what
// Resolve started.
func (f Flags) Resolve(ctx context.Context, logf func(format string, args ...any)) (Flags, func(), error) {
	nothing := func() {}
	if f.URL == "" {
		srv, err := emulator.New(ctx, emulator.Config{})
		if err != nil {
			return Flags{}, nothing, fmt.Errorf("start emulator: %w", err)
		}
		if err := srv.Listen("127.0.0.1:0"); err != nil {
			srv.Close()
			return Flags{}, nothing, fmt.Errorf("start emulator: %w", err)
		}
		u := srv.URL()
		logf("no --target; started an in-process emulator at %s", u)
		warnIgnored(logf, f, "without --target: the in-process emulator uses its development credentials")
		return Dev(u), func() { srv.Close() }, nil
	}
	u, err := url.Parse(f.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return Flags{}, nothing, UsageError{fmt.Errorf("--target %q is not an http or https URL", f.URL)}
	}
	switch {
	case f.Token != "":
		warnIgnored(logf, Flags{TokenURL: f.TokenURL, ClientID: f.ClientID, ClientSecret: f.ClientSecret},
			"with --token: the static token is used instead of client credentials")
		f.TokenURL, f.ClientID, f.ClientSecret = "", "", ""
	case f.TokenURL != "" && f.ClientID != "":
	case f.TokenURL == "" && f.ClientID == "" && isLoopback(u.Hostname()):
		// A separately started emulator: its well-known development credentials.
		warnIgnored(logf, Flags{ClientSecret: f.ClientSecret},
			"without --token-url and --client-id: the emulator at "+f.URL+" gets its development credentials")
		dev := Dev(strings.TrimRight(f.URL, "/"))
		dev.Scope = f.Scope
		return dev, nothing, nil
	default:
		return Flags{}, nothing, UsageError{errors.New("no credentials for the target: give --token, or --token-url and --client-id (with --client-secret)")}
	}
	return f, nothing, nil
}

// warnIgnored says on logf which of the credentials set in dropped (the URL aside) Resolve is about
// to ignore, and why, so that a client secret given without the rest of its credentials is never
// ignored silently.
func warnIgnored(logf func(format string, args ...any), dropped Flags, why string) {
	var names []string
	for _, c := range []struct{ value, name string }{
		{dropped.TokenURL, "--token-url (DYNLOCAL_TOKEN_URL)"},
		{dropped.ClientID, "--client-id (DYNLOCAL_CLIENT_ID)"},
		{dropped.ClientSecret, "--client-secret (DYNLOCAL_CLIENT_SECRET)"},
		{dropped.Token, "--token (DYNLOCAL_TOKEN)"},
		{dropped.Scope, "--scope (DYNLOCAL_SCOPE)"},
	} {
		if c.value != "" {
			names = append(names, c.name)
		}
	}
	if len(names) > 0 {
		logf("warning: ignoring %s %s", strings.Join(names, ", "), why)
	}
}

// Dev returns the connection to an emulator at orgURL with its development credentials.
func Dev(orgURL string) Flags {
	return Flags{
		URL:          orgURL,
		TokenURL:     orgURL + "/" + emulator.DefaultTenantID + "/oauth2/v2.0/token",
		ClientID:     emulator.DefaultClientID,
		ClientSecret: emulator.DefaultClientSecret,
	}
}

// Client builds a client for resolved flags: a static token, or client credentials.
func (f Flags) Client(opts ...client.Option) (*client.Client, error) {
	if f.Token != "" {
		opts = append(opts, client.WithStaticToken(f.Token))
	} else {
		var scopes []string
		if f.Scope != "" {
			scopes = []string{f.Scope}
		}
		opts = append(opts, client.WithClientCredentials(f.TokenURL, f.ClientID, f.ClientSecret, scopes...))
	}
	return client.New(f.URL, opts...)
}

// Secrets lists the configured values that must never be written to a file: the client secret and
// the static token.
func (f Flags) Secrets() []string {
	var out []string
	for _, s := range []string{f.ClientSecret, f.Token} {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
