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

  schema import-csdl --out DIR [--tables TABLE,...] [--no-deps] FILE

FILE is a $metadata document (GET [Org]/api/data/v9.2/$metadata, saved from a browser), or - for
stdin. Every entity type deriving from mscrm.crmbaseentity becomes a compact table in
DIR/entities, its lookups' relationships go to DIR/relationships; start the emulator with
--fixtures DIR. --tables (logical names or wildcards) chooses tables; the tables they point at come
along unless --no-deps is given, which instead fails naming them. The set has no rows.

Columns from Property elements:
  Edm.String          String, MaxLength 4000 (Memo, choices stored as text cannot be told apart)
  Edm.Int32           Integer (also Picklist, State and Status: choices become plain numbers)
  Edm.Int64           BigInt
  Edm.Decimal         Decimal, precision 10 (Money cannot be told apart from Decimal)
  Edm.Double          Double, precision 5
  Edm.Boolean         Boolean
  Edm.DateTimeOffset  DateTime, DateAndTime
  Edm.Date            DateTime, DateOnly
  Edm.Guid            Uniqueidentifier (the Key's property is the primary id)
  _x_value + NavigationProperty with a ReferentialConstraint
                      Lookup x, targets from the navigations' types (Customer for account+contact)
  Edm.Binary, Edm.Stream  left out (images and files); any other type is an error
System columns (createdon, ownerid, statecode, ...) are left to the expander: ownerid makes the
table UserOwned, organizationid OrganizationOwned (BusinessOwned cannot be told apart), neither
None; transactioncurrencyid adds the currency columns; absent ones go to omitSystemColumns.
A single-valued navigation with a Partner becomes a 1:N relationship named after the partner;
without one it gets the expander's default name and collection-valued partner. A collection
navigation whose partner is a collection too becomes an N:N relationship when the document has an
intersect table (its key plus both tables' keys, no navigations).

CSDL cannot carry, so the tables get defaults: labels and descriptions (derived from names),
schema names, object type codes (the built-in set's for its tables, else a stable code; custom
tables get the loader's), the primary name column (guessed: <prefix>_name, name, fullname,
subject, title, else the first string column ending in "name"), option values and labels of
choices, lengths, precision, formats other than DateOnly, minimum and maximum values, required
levels, validity for create, update and read, alternate keys, relationship cascade rules and
relationship names without a Partner, and global option sets.
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
	case "import-csdl":
		return runImportCSDL(args[1:], os.Stdin, stderr, getenv)
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
	if !emptyOut("pull", o.out, stderr) {
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

func runImportCSDL(args []string, stdin io.Reader, stderr io.Writer, getenv func(string) (string, bool)) int {
	fs := pflag.NewFlagSet("schema import-csdl", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	var o importOptions
	out, _ := getenv("DYNLOCAL_SCHEMA_OUT")
	fs.StringVar(&o.out, "out", out, "directory to write the fixtures into (DYNLOCAL_SCHEMA_OUT)")
	fs.StringSliceVar(&o.tables, "tables", nil, "tables to import, logical names or wildcards (default: every table)")
	fs.BoolVar(&o.noDeps, "no-deps", false, "do not import the tables the chosen ones point at; fail if any is missing")
	fs.Usage = func() { fmt.Fprint(stderr, usage, "\nflags:\n", fs.FlagUsages()) }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return exitOK
		}
		fmt.Fprintf(stderr, "schema import-csdl: %v\n%s", err, usage)
		return exitUsage
	}
	switch {
	case o.out == "":
		fmt.Fprintf(stderr, "schema import-csdl: --out is required\n%s", usage)
		return exitUsage
	case fs.NArg() != 1:
		fmt.Fprintf(stderr, "schema import-csdl: want one FILE (or - for stdin)\n%s", usage)
		return exitUsage
	case !emptyOut("import-csdl", o.out, stderr):
		return exitUsage
	}
	in := stdin
	if name := fs.Arg(0); name != "-" {
		f, err := os.Open(name)
		if err != nil {
			fmt.Fprintf(stderr, "schema: %v\n", err)
			return exitFailed
		}
		defer f.Close()
		in = f
	}
	logf := func(format string, args ...any) { fmt.Fprintf(stderr, "schema: "+format+"\n", args...) }
	doc, err := readCSDL(in)
	if err == nil {
		err = importCSDL(doc, o, logf)
	}
	if err != nil {
		fmt.Fprintf(stderr, "schema: %v\n", err)
		return exitFailed
	}
	return exitOK
}

// emptyOut reports whether out is a new or empty directory, saying otherwise on stderr: files an
// earlier run left would load beside the new ones.
func emptyOut(cmd, out string, stderr io.Writer) bool {
	if entries, err := os.ReadDir(out); err == nil && len(entries) > 0 {
		fmt.Fprintf(stderr, "schema %s: %s is not empty; give a new directory for --out, or empty this one first\n", cmd, out)
		return false
	}
	return true
}
