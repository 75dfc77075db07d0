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
	return func(s *settings) { s.cfg.Fixtures = set }
}

// WithFixturesDir starts the organisation from the fixture directory dir (fixtures.LoadDir: the
// layout of the repository's fixtures directory, see fixtures/README.md). The files are read and
// expanded on every New; the database they load into is shared as WithFixtures says. New fails the
// test when the directory does not load.
func WithFixturesDir(dir string) Option {
	return func(s *settings) {
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
	return func(s *settings) { s.cfg.Clock = now }
}

// WithConfig lets f change the emulator's configuration, for what the other options do not cover:
// Loose, NewID, Apps, CORSOrigins, TokenLifetime, a Logger, a DataDir (t.TempDir(), for a database
// on disk), other credentials. f sees the configuration as the options before it left it.
func WithConfig(f func(*emulator.Config)) Option {
	return func(s *settings) {
		if f != nil {
			f(&s.cfg)
		}
	}
}
