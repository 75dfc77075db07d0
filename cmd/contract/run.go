package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/pflag"

	"github.com/dynlocal/dynlocal/contracts"
	"github.com/dynlocal/dynlocal/internal/target"
)

const usage = `usage:
  contract run    [target flags] [--junit FILE] [--parallel N] [SUITE...]
  contract record [target flags] [--parallel N] [--out DIR | --write] [SUITE...]
  contract list   [DIR]

SUITE is a suite file or a directory of them; without one the built-in suites are used.
Without --target an emulator is started in-process with its development credentials.
`

// Exit statuses.
const (
	exitOK     = 0
	exitFailed = 1
	exitUsage  = 2
)

// run is the whole command: it parses args, runs the subcommand and returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return runEnv(ctx, args, stdout, stderr, os.LookupEnv)
}

// lookupEnv reads an environment variable; tests pass their own.
type lookupEnv func(name string) (string, bool)

// runEnv is run with the environment given as a function, so that tests do not depend on the
// environment of whoever runs them.
func runEnv(ctx context.Context, args []string, stdout, stderr io.Writer, getenv lookupEnv) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	switch args[0] {
	case "run", "record":
		return runOrRecord(ctx, args[0], args[1:], stdout, stderr, getenv)
	case "list":
		return list(args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	fmt.Fprintf(stderr, "contract: unknown command %q\n%s", args[0], usage)
	return exitUsage
}

// options are the flags of run and record.
type options struct {
	conn       target.Flags
	junit, out string
	write      bool
	parallel   int
}

func runOrRecord(ctx context.Context, cmd string, args []string, stdout, stderr io.Writer, getenv lookupEnv) int {
	fs := pflag.NewFlagSet("contract "+cmd, pflag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	o.conn.Register(fs, getenv)
	fs.IntVar(&o.parallel, "parallel", 4, "how many cases of a parallel suite run at once")
	if cmd == "run" {
		fs.StringVar(&o.junit, "junit", "", "also write the results as JUnit XML to FILE")
	} else {
		fs.StringVar(&o.out, "out", "", "write recorded suites into DIR (same file names)")
		fs.BoolVar(&o.write, "write", false, "overwrite the suite files with the recordings")
	}
	fs.Usage = func() {
		fmt.Fprint(stderr, usage, "\nflags:\n", fs.FlagUsages())
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return exitOK
		}
		fmt.Fprintf(stderr, "contract %s: %v\n%s", cmd, err, usage)
		return exitUsage
	}
	if o.parallel < 1 {
		fmt.Fprintln(stderr, "contract: --parallel must be at least 1")
		return exitUsage
	}
	if o.write && o.out != "" {
		fmt.Fprintln(stderr, "contract: give --out or --write, not both")
		return exitUsage
	}
	suites, err := loadSuites(fs.Args())
	if err != nil {
		fmt.Fprintf(stderr, "contract: %v\n", err)
		return exitUsage
	}
	conn, stop, err := o.conn.Resolve(ctx, func(format string, args ...any) {
		fmt.Fprintf(stderr, "contract: "+format+"\n", args...)
	})
	if err != nil {
		fmt.Fprintf(stderr, "contract: %v\n", err)
		var ue target.UsageError
		if errors.As(err, &ue) {
			return exitUsage
		}
		return exitFailed
	}
	defer stop()
	t := contracts.Target{URL: conn.URL, TokenURL: conn.TokenURL, ClientID: conn.ClientID, ClientSecret: conn.ClientSecret, Scope: conn.Scope, Token: conn.Token}
	if cmd == "record" {
		return record(ctx, suites, t, o, stdout, stderr)
	}
	return runSuites(ctx, suites, t, o, stdout, stderr)
}

func loadSuites(paths []string) ([]*contracts.Suite, error) {
	if len(paths) == 0 {
		return contracts.LoadBuiltin()
	}
	return contracts.LoadAll(paths...)
}

func runSuites(ctx context.Context, suites []*contracts.Suite, t contracts.Target, o options, stdout, stderr io.Writer) int {
	var reports []*contracts.Report
	passed, failed := 0, 0
	for _, s := range suites {
		rep, err := contracts.Run(ctx, s, t, contracts.Parallel(o.parallel))
		if rep != nil {
			rep.WriteText(stdout)
			reports = append(reports, rep)
			passed += rep.Passed()
			failed += rep.Failed()
		}
		if err != nil {
			fmt.Fprintf(stderr, "contract: %s: %v\n", s.Name, err)
			return exitFailed
		}
	}
	fmt.Fprintf(stdout, "%d passed, %d failed\n", passed, failed)
	if o.junit != "" {
		var buf bytes.Buffer
		err := contracts.WriteJUnit(&buf, reports)
		if err == nil {
			err = os.WriteFile(o.junit, buf.Bytes(), 0o644)
		}
		if err != nil {
			fmt.Fprintf(stderr, "contract: --junit: %v\n", err)
			return exitFailed
		}
	}
	if failed > 0 {
		return exitFailed
	}
	return exitOK
}

func record(ctx context.Context, suites []*contracts.Suite, t contracts.Target, o options, stdout, stderr io.Writer) int {
	for _, s := range suites {
		out, err := contracts.Record(ctx, s, t, contracts.Parallel(o.parallel))
		if err != nil {
			fmt.Fprintf(stderr, "contract: %v\n", err)
			return exitFailed
		}
		b, err := contracts.Format(out)
		if err != nil {
			fmt.Fprintf(stderr, "contract: %v\n", err)
			return exitFailed
		}
		dest := ""
		switch {
		case o.write:
			if _, err := os.Stat(s.Path); err != nil {
				fmt.Fprintf(stderr, "contract: --write: %s is not a file here (built-in suites are written with --out, or by naming their files)\n", s.Path)
				return exitFailed
			}
			dest = s.Path
		case o.out != "":
			if err := os.MkdirAll(o.out, 0o755); err != nil {
				fmt.Fprintf(stderr, "contract: --out: %v\n", err)
				return exitFailed
			}
			dest = filepath.Join(o.out, filepath.Base(s.Path))
		}
		if dest == "" {
			stdout.Write(b)
			continue
		}
		if err := os.WriteFile(dest, b, 0o644); err != nil {
			fmt.Fprintf(stderr, "contract: %v\n", err)
			return exitFailed
		}
		fmt.Fprintf(stderr, "recorded %s (%d cases) -> %s\n", s.Name, len(s.Cases), dest)
	}
	return exitOK
}

func list(args []string, stdout, stderr io.Writer) int {
	fs := pflag.NewFlagSet("contract list", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return exitOK
		}
		fmt.Fprintf(stderr, "contract list: %v\n%s", err, usage)
		return exitUsage
	}
	if fs.NArg() > 1 {
		fmt.Fprintf(stderr, "contract: list takes at most one directory\n%s", usage)
		return exitUsage
	}
	suites, err := loadSuites(fs.Args())
	if err != nil {
		fmt.Fprintf(stderr, "contract: %v\n", err)
		return exitUsage
	}
	for _, s := range suites {
		par := ""
		if s.Parallel {
			par = ", parallel"
		}
		fmt.Fprintf(stdout, "%s (%d cases%s) %s\n", s.Name, len(s.Cases), par, s.Path)
		if s.Description != "" {
			fmt.Fprintf(stdout, "  %s\n", s.Description)
		}
		for _, c := range s.Cases {
			fmt.Fprintf(stdout, "  - %s\n", c.Name)
		}
	}
	return exitOK
}
