package dynlocaltest

import (
	"errors"
	"io/fs"
	"time"

	"github.com/dynlocal/dynlocal/emulator"
	"github.com/dynlocal/dynlocal/fixtures"
)

// An Option changes how New starts an organisation. Options apply in the order given, so when two
// set the same thing (WithFixturesDir, then WithConfig setting Fixtures) the later one wins.
type Option func(*settings)

// settings collects what the options ask for.
type settings struct {
	cfg emulator.Config
	// err is the first error an option met (a fixture directory that does not load); New fails
	// the test with it.
	err error
	// shared is set by Shared. Shared cannot honour an option that changes the emulator itself
	// (changed names it) nor fixtures read on every New (fixturesFrom names the option that set
	// the fixtures last).
	shared       bool
	changed      string
	fixturesFrom string
}

// fail remembers the first error of an option.
func (s *settings) fail(err error) {
	if s.err == nil {
		s.err = err
	}
}

// WithFixtures starts the organisation from set in place of the built-in fixtures. The emulator
// loads each distinct set once per process (sets are told apart by their content), so a package
// that builds its set once, in a variable or a sync.OnceValues, and passes it to every New pays
// for the expansion and the load once. Nil means the built-in set.
func WithFixtures(set *fixtures.Set) Option {
	return func(s *settings) {
		s.fixturesFrom = "WithFixtures"
		s.cfg.Fixtures = set
	}
}

// WithFixturesDir starts the organisation from the fixture directory dir (fixtures.LoadDir: the
// layout of the repository's fixtures directory, see fixtures/README.md). The files are read and
// expanded on every New; the database they load into is shared as WithFixtures says. New fails the
// test when the directory does not load.
func WithFixturesDir(dir string) Option {
	return func(s *settings) {
		s.fixturesFrom = "WithFixturesDir"
		set, err := fixtures.LoadDir(dir)
		if err != nil {
			s.fail(err)
			return
		}
		s.cfg.Fixtures = set
	}
}

// WithFixturesFS starts the organisation from the fixture files of fsys (fixtures.LoadFS): an
// embed.FS compiled into the test, or an fstest.MapFS the test writes. Like WithFixturesDir it
// reads the files on every New, and New fails the test when they do not load.
func WithFixturesFS(fsys fs.FS) Option {
	return func(s *settings) {
		s.fixturesFrom = "WithFixturesFS"
		if fsys == nil {
			s.fail(errors.New("WithFixturesFS(nil)"))
			return
		}
		set, err := fixtures.LoadFS(fsys)
		if err != nil {
			s.fail(err)
			return
		}
		s.cfg.Fixtures = set
	}
}

// WithClock gives the emulator a clock: createdon, modifiedon, the versions in ETags and the
// times of issued tokens come from now in place of time.Now, so a test can expect exact values.
// now is called from the server's goroutines, so a clock the test moves must be safe for
// concurrent use. The emulator checks token expiry against now while the client judges it by the
// real time: a clock that jumps further ahead than the token lifetime (an hour) needs a longer
// one, WithConfig(func(c *emulator.Config) { c.TokenLifetime = 24 * time.Hour }) say.
func WithClock(now func() time.Time) Option {
	return func(s *settings) {
		s.changed = "WithClock"
		s.cfg.Clock = now
	}
}

// WithConfig lets f change the emulator's configuration, for what the other options do not cover:
// Loose, NewID, Apps, CORSOrigins, TokenLifetime, a Logger, a DataDir (t.TempDir(), for a database
// on disk), other credentials. f sees the configuration as the options before it left it.
func WithConfig(f func(*emulator.Config)) Option {
	return func(s *settings) {
		s.changed = "WithConfig"
		if f != nil {
			f(&s.cfg)
		}
	}
}

// Shared makes New give the test an environment of an emulator that the whole test binary shares,
// in place of an emulator of its own: the emulator starts (on a loopback port) with the first
// Shared New of its fixture set and lives until the process ends; each Shared New creates an
// environment in it (POST /_emulator/environments, in process), a separate organisation served
// under URL()=<emulator>/env/<name>, and the test's cleanup deletes it. Everything an Org offers
// works the same, and parallel tests are as isolated as with organisations of their own; what
// changes is the cost (a few milliseconds less per test, one listener for the package) and that
// the environment's name, derived from the test's name, shows in URL() and the emulator's log.
//
// Shared combines with WithFixtures (one shared emulator per set given) but not with the options
// that change the emulator itself (WithClock, WithConfig) or read files on every New
// (WithFixturesDir, WithFixturesFS: load the set once and pass it with WithFixtures); New fails
// the test when it is given one of them.
func Shared() Option {
	return func(s *settings) { s.shared = true }
}
