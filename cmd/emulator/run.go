package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/dynlocal/dynlocal/emulator"
	"github.com/dynlocal/dynlocal/fixtures"
)

// run parses flags, starts the emulator and serves until ctx is cancelled. It returns the exit
// status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	start := time.Now()
	fs := pflag.NewFlagSet("emulator", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	env := func(name, def string) string {
		if v, ok := os.LookupEnv(name); ok {
			return v
		}
		return def
	}
	envBool := func(name string) bool {
		b, _ := strconv.ParseBool(os.Getenv(name))
		return b
	}
	envList := func(name string) []string {
		v := strings.TrimSpace(os.Getenv(name))
		if v == "" {
			return nil
		}
		return strings.Split(v, ",")
	}
	addr := fs.String("addr", env("DYNLOCAL_ADDR", "127.0.0.1:8080"), "address to listen on (DYNLOCAL_ADDR)")
	data := fs.String("data", env("DYNLOCAL_DATA", "./.dynlocal"), "directory of the database file and snapshots (DYNLOCAL_DATA)")
	inMemory := fs.Bool("in-memory", envBool("DYNLOCAL_IN_MEMORY"), "keep the data in memory; none of it is written to disk (DYNLOCAL_IN_MEMORY)")
	fixturesDir := fs.String("fixtures", env("DYNLOCAL_FIXTURES", ""), "directory of your own metadata and rows, in the format of fixtures/README.md (DYNLOCAL_FIXTURES)")
	reset := fs.Bool("reset", envBool("DYNLOCAL_RESET"), "replace the data directory's data with the fixtures at start, as POST /_emulator/reset does (DYNLOCAL_RESET)")
	tenant := fs.String("tenant", env("DYNLOCAL_TENANT", emulator.DefaultTenantID), "development tenant id (DYNLOCAL_TENANT)")
	clientID := fs.String("client-id", env("DYNLOCAL_CLIENT_ID", emulator.DefaultClientID), "development app client id (DYNLOCAL_CLIENT_ID)")
	secret := fs.String("client-secret", env("DYNLOCAL_CLIENT_SECRET", emulator.DefaultClientSecret), "development app client secret (DYNLOCAL_CLIENT_SECRET)")
	loose := fs.Bool("loose", envBool("DYNLOCAL_LOOSE"), "ignore query options and headers Dataverse rejects, instead of failing (DYNLOCAL_LOOSE)")
	cacheDir := fs.String("cache-dir", env("DYNLOCAL_CACHE_DIR", defaultCacheDir()), "directory where fixture databases (and the signing key of --in-memory starts) are kept between runs for a fast start; \"off\" for none (DYNLOCAL_CACHE_DIR)")
	logLevel := fs.String("log-level", env("DYNLOCAL_LOG_LEVEL", "info"), "log level: debug, info, warn, error (DYNLOCAL_LOG_LEVEL)")
	orgURL := fs.String("org-url", env("DYNLOCAL_ORG_URL", ""), "another URL tokens may be asked for, such as https://org.crm.dynamics.com when a hosts entry or proxy points that name here (DYNLOCAL_ORG_URL)")
	apps := fs.StringArray("app", envList("DYNLOCAL_APPS"), "another application registration as client-id:secret, signing in as an application user of its own; repeatable (DYNLOCAL_APPS, comma-separated)")
	redirectURIs := fs.StringArray("redirect-uri", envList("DYNLOCAL_REDIRECT_URIS"), "another redirect URI the sign-in endpoint may send codes to, beside http://localhost, http://127.0.0.1 and http://[::1] on any port and path; repeatable (DYNLOCAL_REDIRECT_URIS, comma-separated)")
	corsOrigins := fs.StringSlice("cors-origins", envList("DYNLOCAL_CORS_ORIGINS"), "browser origins allowed to call the Web API, such as http://localhost:3000, or * for any; default the loopback origins (DYNLOCAL_CORS_ORIGINS, comma-separated)")
	var tlsOpts tlsOptions
	fs.BoolVar(&tlsOpts.on, "tls", envBool("DYNLOCAL_TLS"), "also serve HTTPS on --tls-addr, with a certificate from a local development CA made on first use (DYNLOCAL_TLS)")
	fs.StringVar(&tlsOpts.addr, "tls-addr", env("DYNLOCAL_TLS_ADDR", "127.0.0.1:8443"), "address of the HTTPS listener (DYNLOCAL_TLS_ADDR)")
	fs.StringArrayVar(&tlsOpts.hosts, "tls-host", envList("DYNLOCAL_TLS_HOSTS"), "another host name or IP address for the development certificate, beside localhost, 127.0.0.1 and ::1; repeatable (DYNLOCAL_TLS_HOSTS, comma-separated)")
	fs.StringVar(&tlsOpts.dir, "tls-dir", env("DYNLOCAL_TLS_DIR", ""), "directory of the development CA and certificate; default <data>/tls, with --in-memory the user config directory's dynlocal/tls (DYNLOCAL_TLS_DIR)")
	fs.StringVar(&tlsOpts.certFile, "tls-cert", env("DYNLOCAL_TLS_CERT", ""), "PEM certificate (chain) to serve HTTPS with instead of the development CA's; implies --tls (DYNLOCAL_TLS_CERT)")
	fs.StringVar(&tlsOpts.keyFile, "tls-key", env("DYNLOCAL_TLS_KEY", ""), "PEM private key of --tls-cert (DYNLOCAL_TLS_KEY)")
	limits := fs.String("limits", env("DYNLOCAL_LIMITS", "off"), "service protection limits: off, dataverse (6000 requests, 20 minutes of execution time per user in 5 minutes, 52 at once) or scale=F (those times F, the window included) (DYNLOCAL_LIMITS)")
	envInt := func(name string, def int) int {
		if v, err := strconv.Atoi(os.Getenv(name)); err == nil {
			return v
		}
		return def
	}
	journalSize := fs.Int("journal-size", envInt("DYNLOCAL_JOURNAL_SIZE", 1000), "how many recent requests GET /_emulator/requests keeps; 0 turns the journal off (DYNLOCAL_JOURNAL_SIZE)")
	maxEnvs := fs.Int("max-environments", envInt("DYNLOCAL_MAX_ENVIRONMENTS", 100), "most environments POST /_emulator/environments may create, each an in-memory organisation of about 10 MB (DYNLOCAL_MAX_ENVIRONMENTS)")
	hosts := fs.StringArray("host", envList("DYNLOCAL_HOSTS"), "another host name requests may be addressed to (their Host header), beside localhost, the listen addresses, --org-url's and --tls-host's; repeatable (DYNLOCAL_HOSTS, comma-separated)")
	adminToken := fs.String("admin-token", env("DYNLOCAL_ADMIN_TOKEN", ""), "token the admin API (/_emulator/) requires as 'Authorization: Bearer <token>', health excepted; required when --addr or --tls-addr is not loopback (DYNLOCAL_ADMIN_TOKEN)")
	maxConns := fs.Int("max-connections", envInt("DYNLOCAL_MAX_CONNECTIONS", 4096), "most connections held open at once; a few more are kept for /_emulator/health, and others are answered 503 (DYNLOCAL_MAX_CONNECTIONS)")
	version := fs.Bool("version", false, "print the version and exit")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "emulator: %v%s\nRun with --help for the flags.\n", err, flagHint(fs, err))
		return 2
	}
	if *version {
		fmt.Fprintln(stdout, versionString())
		return 0
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "emulator: unexpected arguments: %s\nRun with --help for the flags.\n", strings.Join(fs.Args(), " "))
		return 2
	}
	if tlsOpts.certFile != "" {
		tlsOpts.on = true
	}
	if err := checkTLSFlags(tlsOpts, fs.Changed); err != nil {
		fmt.Fprintf(stderr, "emulator: %v\n", err)
		return 2
	}
	if *maxConns < 1 {
		fmt.Fprintf(stderr, "emulator: --max-connections must be 1 or more\n")
		return 2
	}
	exposed := []string{}
	for _, a := range []string{*addr, tlsOpts.addr} {
		if a == tlsOpts.addr && !tlsOpts.on {
			continue
		}
		if !loopbackAddr(a) {
			exposed = append(exposed, a)
		}
	}
	if len(exposed) > 0 && *adminToken == "" {
		fmt.Fprintf(stderr, "emulator: listening on %s, which is not loopback, needs --admin-token (or DYNLOCAL_ADMIN_TOKEN): "+
			"a secret the admin API (/_emulator/) then requires as 'Authorization: Bearer <token>'. "+
			"Or listen on loopback only: --addr 127.0.0.1:8080.\n", strings.Join(exposed, " and "))
		return 2
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(stderr, "emulator: --log-level: %v\n", err)
		return 2
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	cfg := emulator.Config{
		TenantID:       *tenant,
		ClientID:       *clientID,
		ClientSecret:   *secret,
		OrgURL:         strings.TrimRight(*orgURL, "/"),
		Loose:          *loose,
		Logger:         logger,
		ResetData:      *reset,
		AdminToken:     *adminToken,
		MaxConnections: *maxConns,
		Hosts:          append(append([]string{}, *hosts...), tlsOpts.hosts...),
	}
	switch {
	case *journalSize < 0 || *maxEnvs < 1:
		fmt.Fprintf(stderr, "emulator: --journal-size must be 0 or more and --max-environments 1 or more\n")
		return 2
	case *journalSize == 0:
		cfg.JournalSize = -1
	default:
		cfg.JournalSize = *journalSize
	}
	cfg.MaxEnvironments = *maxEnvs
	lim, err := emulator.ParseLimits(*limits)
	if err != nil {
		fmt.Fprintf(stderr, "emulator: --%v\n", err)
		return 2
	}
	cfg.Limits = lim
	for _, a := range *apps {
		id, sec, ok := strings.Cut(a, ":")
		if !ok || id == "" || sec == "" {
			fmt.Fprintf(stderr, "emulator: --app %q: want client-id:secret\n", a)
			return 2
		}
		cfg.Apps = append(cfg.Apps, emulator.App{ClientID: id, ClientSecret: sec})
	}
	cfg.RedirectURIs = *redirectURIs
	if fs.Changed("cors-origins") || os.Getenv("DYNLOCAL_CORS_ORIGINS") != "" {
		cfg.CORSOrigins = append([]string{}, *corsOrigins...)
	}
	if *cacheDir != "off" {
		cfg.CacheDir = *cacheDir
	}
	if !*inMemory {
		cfg.DataDir = *data
	}
	if *fixturesDir != "" {
		set, err := fixtures.LoadDir(*fixturesDir)
		if err != nil {
			fmt.Fprintln(stderr, prefixed(err))
			return 1
		}
		cfg.Fixtures = set
	}
	srv, err := emulator.New(ctx, cfg)
	if serverBuilt != nil {
		serverBuilt()
	}
	if errors.Is(err, emulator.ErrFixturesMismatch) {
		fmt.Fprintf(stderr, "%v\nStart with a new --data directory, or add --reset to replace the data in %s with the fixtures of --fixtures.\n", err, cfg.DataDir)
		return 1
	}
	if err != nil {
		fmt.Fprintln(stderr, prefixed(err))
		return 1
	}
	defer srv.Close()
	var tlsSet *tlsSetup
	if tlsOpts.on {
		if tlsSet, err = prepareTLS(tlsOpts, cfg.DataDir, cfg.OrgURL, time.Now()); err != nil {
			fmt.Fprintln(stderr, prefixed(err))
			return 1
		}
	}
	if err := srv.Listen(*addr); err != nil {
		fmt.Fprintln(stderr, prefixed(err))
		if errors.Is(err, syscall.EADDRINUSE) {
			fmt.Fprintf(stderr, "Another program is listening on %s. Choose another address with --addr (or DYNLOCAL_ADDR), or --addr 127.0.0.1:0 for any free port; the banner prints the one taken.\n", *addr)
		}
		return 1
	}
	if tlsSet != nil {
		if err := srv.ListenTLS(tlsOpts.addr, tlsSet.config); err != nil {
			fmt.Fprintln(stderr, prefixed(err))
			if errors.Is(err, syscall.EADDRINUSE) {
				fmt.Fprintf(stderr, "Another program is listening on %s. Choose another address with --tls-addr (or DYNLOCAL_TLS_ADDR), or --tls-addr 127.0.0.1:0 for any free port; the banner prints the one taken.\n", tlsOpts.addr)
			}
			return 1
		}
	}
	u := srv.URL()
	if len(exposed) > 0 {
		fmt.Fprintf(stderr, "emulator: WARNING: listening on %s, which other machines can reach: anyone who can connect "+
			"may use the Web API with the development credentials. The admin API needs the admin token.\n", strings.Join(exposed, " and "))
	}
	setName, tables, err := srv.FixtureSet(ctx)
	if err != nil {
		fmt.Fprintln(stderr, prefixed(err))
		return 1
	}
	if setName == "" {
		setName = "not recorded (data made by an older dynlocal)"
	}
	storage := "in memory"
	if cfg.DataDir != "" {
		storage = cfg.DataDir
	}
	shownSecret := *secret
	if shownSecret != emulator.DefaultClientSecret {
		shownSecret = "(yours, from --client-secret or DYNLOCAL_CLIENT_SECRET; not shown)"
	}
	var banner strings.Builder
	fmt.Fprintf(&banner, `dynlocal Dataverse emulator ready in %s
  Web API:        %s/api/data/v9.2/
  Token URL:      %s/%s/oauth2/v2.0/token
  Authorize URL:  %s/%s/oauth2/v2.0/authorize
  Tenant ID:      %s
  Client ID:      %s
  Client secret:  %s
  Scope:          %s/.default
  Data:           %s
  Fixtures:       %s (%d tables)
  Admin:          %s/_emulator/health
`, time.Since(start).Round(time.Millisecond), u, u, *tenant, u, *tenant, *tenant, *clientID, shownSecret, u, storage, setName, tables, u)
	if *adminToken != "" {
		banner.WriteString("  Admin token:    required by /_emulator/ as 'Authorization: Bearer <token>' (health excepted)\n")
	}
	for _, o := range otherURLs(*addr, u) {
		fmt.Fprintf(&banner, "  Also at:        %s/api/data/v9.2/\n", o)
	}
	if tlsSet != nil {
		banner.WriteString(tlsSet.banner(srv.TLSURL(), *tenant))
	}
	io.WriteString(stdout, banner.String()) // in one piece: readers wait for its last line
	<-ctx.Done()
	logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		fmt.Fprintf(stderr, "emulator: shutdown: %v\n", err)
		return 1
	}
	return 0
}

// defaultCacheDir is dynlocal's directory in the user's cache directory, or "off" when the
// system has none.
func defaultCacheDir() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "off"
	}
	return filepath.Join(dir, "dynlocal")
}

// prefixed is an error as the command prints it: with one "emulator: " in front, not two.
func prefixed(err error) string {
	msg := err.Error()
	if strings.HasPrefix(msg, "emulator: ") {
		return msg
	}
	return "emulator: " + msg
}

// flagHint suggests the flag an unknown one was probably meant to be ("--inmemory" for
// --in-memory, "--port" for --addr), or nothing.
func flagHint(fs *pflag.FlagSet, err error) string {
	msg := err.Error()
	name, ok := strings.CutPrefix(msg, "unknown flag: --")
	if !ok {
		return ""
	}
	if alias, ok := flagAliases[name]; ok {
		return fmt.Sprintf(" (did you mean --%s?)", alias)
	}
	best, bestDist := "", 3
	fs.VisitAll(func(f *pflag.Flag) {
		if d := editDistance(name, f.Name); d < bestDist {
			best, bestDist = f.Name, d
		}
	})
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean --%s?)", best)
}

// flagAliases are flags other emulators have, mapped to ours.
var flagAliases = map[string]string{"port": "addr", "listen": "addr", "inmemory": "in-memory", "memory": "in-memory", "db": "data", "data-dir": "data"}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// versionString is the module version and the VCS revision the binary was built from.
func versionString() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "dynlocal (version unknown)"
	}
	version := info.Main.Version
	if releaseVersion != "" {
		version = releaseVersion
	}
	if version == "" {
		version = "(devel)"
	}
	var rev, modified, when string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				modified = " with local changes"
			}
		case "vcs.time":
			when = " " + s.Value
		}
	}
	out := "dynlocal " + version + " " + info.GoVersion
	if rev != "" {
		out += "\nrevision " + rev + modified + when
	}
	return out
}

// loopbackAddr reports whether a listener on addr (host:port) is reachable only from this
// machine: its host is localhost or a loopback address. An empty host means every interface. An
// addr that is no address counts as loopback here: listening on it fails, with its own message.
func loopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return true
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// otherURLs are the URLs other machines reach a listener on addr by, beside its URL u: the
// machine's addresses when addr is unspecified (0.0.0.0, ::, or no host), never an unspecified
// address itself.
func otherURLs(addr, u string) []string {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil
	}
	ip := net.ParseIP(host)
	if host != "" && (ip == nil || !ip.IsUnspecified()) {
		return nil
	}
	_, port, err := net.SplitHostPort(strings.TrimPrefix(u, "http://"))
	if err != nil {
		return nil
	}
	var out []string
	for _, a := range emulator.InterfaceAddrs(ip != nil && ip.To4() != nil) {
		if a.IsLinkLocalUnicast() {
			continue // needs a zone to be dialled
		}
		out = append(out, "http://"+net.JoinHostPort(a.String(), port))
	}
	return out
}
