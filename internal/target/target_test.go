package target

import (
	"context"
	"errors"
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
