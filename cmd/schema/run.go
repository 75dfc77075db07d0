package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/spf13/pflag"

	"github.com/dynlocal/dynlocal/internal/target"
)

const usage = `usage:
  schema pull [target flags] --out DIR [--custom] [--no-deps] [--rows N] [TABLE...]

TABLE is a logical name or a wildcard (cr8a1_*). Without TABLE or --custom every table is pulled.
Tables the chosen ones point at (lookup targets, owners, currencies, many-to-many partners) come
along unless --no-deps is given, which instead fails naming the missing tables.
Without --target an emulator is started in-process: its built-in tables are exported.
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

// runEnv is run with the environment given as a function, so that tests do not depend on the
// environment of whoever runs them.
func runEnv(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) (string, bool)) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	switch args[0] {
	case "pull":
		return runPull(ctx, args[1:], stderr, getenv)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	fmt.Fprintf(stderr, "schema: unknown command %q\n%s", args[0], usage)
	return exitUsage
}

func runPull(ctx context.Context, args []string, stderr io.Writer, getenv func(string) (string, bool)) int {
	fs := pflag.NewFlagSet("schema pull", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	var conn target.Flags
	conn.Register(fs, getenv)
	var o pullOptions
	env := func(name string) string { v, _ := getenv(name); return v }
	fs.StringVar(&o.out, "out", env("DYNLOCAL_SCHEMA_OUT"), "directory to write the fixtures into (DYNLOCAL_SCHEMA_OUT)")
	fs.BoolVar(&o.custom, "custom", false, "pull every custom table")
	fs.BoolVar(&o.noDeps, "no-deps", false, "do not pull the tables the chosen ones point at; fail if any is missing")
	rows, _ := strconv.Atoi(env("DYNLOCAL_SCHEMA_ROWS"))
	fs.IntVar(&o.rows, "rows", rows, "copy up to N rows per table into rows/ (DYNLOCAL_SCHEMA_ROWS)")
	fs.Usage = func() { fmt.Fprint(stderr, usage, "\nflags:\n", fs.FlagUsages()) }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return exitOK
		}
		fmt.Fprintf(stderr, "schema pull: %v\n%s", err, usage)
		return exitUsage
	}
	o.tables = fs.Args()
	switch {
	case o.out == "":
		fmt.Fprintf(stderr, "schema pull: --out is required\n%s", usage)
		return exitUsage
	case o.rows < 0:
		fmt.Fprintln(stderr, "schema pull: --rows must not be negative")
		return exitUsage
	}
	// Files a previous pull left would load beside the new ones: start from an empty directory.
	if entries, err := os.ReadDir(o.out); err == nil && len(entries) > 0 {
		fmt.Fprintf(stderr, "schema pull: %s is not empty; give a new directory for --out, or empty this one first\n", o.out)
		return exitUsage
	}
	logf := func(format string, args ...any) { fmt.Fprintf(stderr, "schema: "+format+"\n", args...) }
	resolved, stop, err := conn.Resolve(ctx, logf)
	if err != nil {
		fmt.Fprintf(stderr, "schema: %v\n", err)
		var ue target.UsageError
		if errors.As(err, &ue) {
			return exitUsage
		}
		return exitFailed
	}
	defer stop()
	c, err := resolved.Client()
	if err != nil {
		fmt.Fprintf(stderr, "schema: %v\n", err)
		return exitUsage
	}
	o.secrets = resolved.Secrets()
	if err := pull(ctx, c, o, logf); err != nil {
		fmt.Fprintf(stderr, "schema: %v\n", err)
		return exitFailed
	}
	return exitOK
}
