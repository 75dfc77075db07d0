package contracts

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"time"
)

// Report is the outcome of running one suite.
type Report struct {
	// Suite is the suite's name and Path its file.
	Suite, Path string
	// Cases holds one result per case in suite order, plus "setup", "teardown" and "setup cleanup"
	// entries when those failed.
	Cases []CaseResult
	// Duration is the wall time of the whole suite.
	Duration time.Duration
}

// Passed counts the cases that passed.
func (r *Report) Passed() int {
	n := 0
	for _, c := range r.Cases {
		if c.Passed() {
			n++
		}
	}
	return n
}

// Failed counts the cases that failed.
func (r *Report) Failed() int { return len(r.Cases) - r.Passed() }

// CaseResult is the outcome of one case.
type CaseResult struct {
	// Name is the case's name.
	Name string
	// Duration covers the steps, not the cleanup.
	Duration time.Duration
	// Failures lists what went wrong; empty means the case passed.
	Failures []Failure
}

// Passed reports whether the case had no failures.
func (c CaseResult) Passed() bool { return len(c.Failures) == 0 }

// Failure is one problem in a case: a difference between expectation and answer, or a step that
// could not run (Message).
type Failure struct {
	// Step is the 1-based index of the step in its case (0 for cleanup problems).
	Step int
	// Action is the step's action.
	Action string
	// Difference locates a mismatch; it is zero when Message is set.
	Difference
	// Message describes a step that could not run or be checked.
	Message string
}

// String renders the failure on one line, such as
//
//	step 2 (GetRecord): body.error.code: want "0x80040217", got "0x0"
func (f Failure) String() string {
	var b strings.Builder
	if f.Step > 0 {
		fmt.Fprintf(&b, "step %d (%s): ", f.Step, f.Action)
	}
	if f.Message != "" {
		b.WriteString(f.Message)
	} else {
		b.WriteString(f.Difference.String())
	}
	return b.String()
}

// WriteText writes a line per case (PASS or FAIL, suite/case, duration) with the failures of failing
// cases indented below it.
func (r *Report) WriteText(w io.Writer) error {
	for _, c := range r.Cases {
		status := "PASS"
		if !c.Passed() {
			status = "FAIL"
		}
		if _, err := fmt.Fprintf(w, "%s %s/%s (%s)\n", status, r.Suite, c.Name, roundDuration(c.Duration)); err != nil {
			return err
		}
		for _, f := range c.Failures {
			if _, err := fmt.Fprintf(w, "    %s\n", f); err != nil {
				return err
			}
		}
	}
	return nil
}

func roundDuration(d time.Duration) time.Duration {
	if d < time.Millisecond {
		return d.Round(time.Microsecond)
	}
	return d.Round(time.Millisecond)
}

// JUnit XML, in the shape CI systems (Jenkins, GitLab, GitHub reporters) read.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Time     string      `xml:"time,attr"`
	File     string      `xml:"file,attr,omitempty"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	ClassName string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }

// WriteJUnit writes reports as one JUnit XML document: a testsuite per suite, a testcase per case.
func WriteJUnit(w io.Writer, reports []*Report) error {
	doc := junitSuites{}
	var total time.Duration
	for _, r := range reports {
		js := junitSuite{Name: r.Suite, Tests: len(r.Cases), Failures: r.Failed(), Time: seconds(r.Duration), File: r.Path}
		for _, c := range r.Cases {
			jc := junitCase{Name: c.Name, ClassName: r.Suite, Time: seconds(c.Duration)}
			if !c.Passed() {
				lines := make([]string, len(c.Failures))
				for i, f := range c.Failures {
					lines[i] = f.String()
				}
				jc.Failure = &junitFailure{Message: lines[0], Type: "contract", Text: strings.Join(lines, "\n")}
			}
			js.Cases = append(js.Cases, jc)
		}
		doc.Tests += js.Tests
		doc.Failures += js.Failures
		total += r.Duration
		doc.Suites = append(doc.Suites, js)
	}
	doc.Time = seconds(total)
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
