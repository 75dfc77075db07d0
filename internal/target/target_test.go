package target

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/pflag"
)

func TestRegisterReadsEnvironment(t *testing.T) {
	env := map[string]string{"DYNLOCAL_TARGET": "https://org.example.com", "DYNLOCAL_TOKEN": "tok"}
	fs := pflag.NewFlagSet("x", pflag.ContinueOnError)
	var f Flags
	f.Register(fs, func(name string) (string, bool) { v, ok := env[name]; return v, ok })
	if err := fs.Parse([]string{"--scope", "s"}); err != nil {
		t.Fatal(err)
	}
	want := Flags{URL: "https://org.example.com", Token: "tok", Scope: "s"}
	if diff := cmp.Diff(want, f); diff != "" {
		t.Errorf("flags (-want +got):\n%s", diff)
	}
}

func TestResolve(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		in    Flags
		want  Flags
		usage bool
	}{
		{name: "static token drops client credentials", in: Flags{URL: "https://org.example.com", Token: "t", ClientID: "c", TokenURL: "u", ClientSecret: "s"},
			want: Flags{URL: "https://org.example.com", Token: "t"}},
		{name: "client credentials", in: Flags{URL: "https://org.example.com", TokenURL: "https://login/token", ClientID: "c", ClientSecret: "s"},
			want: Flags{URL: "https://org.example.com", TokenURL: "https://login/token", ClientID: "c", ClientSecret: "s"}},
		{name: "loopback emulator gets development credentials", in: Flags{URL: "http://127.0.0.1:8080/", Scope: "x"},
			want: func() Flags { f := Dev("http://127.0.0.1:8080"); f.Scope = "x"; return f }()},
		{name: "not a URL", in: Flags{URL: "org.example.com"}, usage: true},
		{name: "no credentials", in: Flags{URL: "https://org.example.com"}, usage: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, stop, err := tt.in.Resolve(context.Background(), t.Logf)
			defer stop()
			var ue UsageError
			if tt.usage != errors.As(err, &ue) {
				t.Fatalf("error = %v, want usage error %v", err, tt.usage)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("resolved (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSecrets(t *testing.T) {
	got := Flags{ClientSecret: "cs", Token: "tok"}.Secrets()
	if diff := cmp.Diff([]string{"cs", "tok"}, got); diff != "" {
		t.Errorf("secrets (-want +got):\n%s", diff)
	}
}

// TestResolveWarnsOfIgnoredSecret checks that a client secret Resolve cannot use (no target, a
// loopback target without the rest of the client credentials, or a static token beside it) is
// named in a warning, and that credentials Resolve uses draw none.
func TestResolveWarnsOfIgnoredSecret(t *testing.T) {
	t.Parallel()
	const secret = "--client-secret (DYNLOCAL_CLIENT_SECRET)"
	tests := []struct {
		name string
		in   Flags
		want []string // in the one warning line; none expected when empty
	}{
		{name: "no target", in: Flags{ClientSecret: "s"}, want: []string{"warning: ignoring " + secret + " without --target"}},
		{name: "no target, all credentials", in: Flags{TokenURL: "u", ClientID: "c", ClientSecret: "s"},
			want: []string{"--token-url (DYNLOCAL_TOKEN_URL), --client-id (DYNLOCAL_CLIENT_ID), " + secret + " without --target"}},
		{name: "loopback target", in: Flags{URL: "http://127.0.0.1:8080", ClientSecret: "s"},
			want: []string{"warning: ignoring " + secret + " without --token-url and --client-id", "http://127.0.0.1:8080"}},
		{name: "static token", in: Flags{URL: "https://org.example.com", Token: "t", ClientSecret: "s"},
			want: []string{"warning: ignoring " + secret + " with --token"}},
		{name: "no target, no credentials", in: Flags{}},
		{name: "loopback target, no secret", in: Flags{URL: "http://127.0.0.1:8080"}},
		{name: "client credentials", in: Flags{URL: "https://org.example.com", TokenURL: "u", ClientID: "c", ClientSecret: "s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var warnings []string
			_, stop, err := tt.in.Resolve(context.Background(), func(format string, args ...any) {
				if msg := fmt.Sprintf(format, args...); strings.Contains(msg, "warning") {
					warnings = append(warnings, msg)
				}
			})
			defer stop()
			if err != nil {
				t.Fatal(err)
			}
			if len(tt.want) == 0 {
				if len(warnings) != 0 {
					t.Errorf("warnings %q, want none", warnings)
				}
				return
			}
			if len(warnings) != 1 {
				t.Fatalf("warnings %q, want one", warnings)
			}
			for _, w := range tt.want {
				if !strings.Contains(warnings[0], w) {
					t.Errorf("warning %q lacks %q", warnings[0], w)
				}
			}
		})
	}
}
