package compat_tests

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// python is one CPython interpreter found on this machine.
type python struct {
	Path  string // absolute path of the interpreter
	Major int
	Minor int
}

// Name is the subtest name of the interpreter, e.g. "py3.12".
func (p python) Name() string { return fmt.Sprintf("py%d.%d", p.Major, p.Minor) }

// AtLeast reports whether the interpreter is version major.minor or newer.
func (p python) AtLeast(major, minor int) bool {
	return p.Major > major || (p.Major == major && p.Minor >= minor)
}

// IsPy2 reports whether the interpreter is a Python 2.
func (p python) IsPy2() bool { return p.Major == 2 }

var (
	pythonsOnce sync.Once
	pythonsList []python
	pythonsErr  error
	pythonsFrom string
)

// candidatePythons lists interpreter paths in the documented order: the PYTHONS environment
// variable (paths separated by spaces, commas or the OS list separator), else every pyenv version,
// else python3 on PATH.
func candidatePythons() ([]string, string) {
	if env := strings.TrimSpace(os.Getenv("PYTHONS")); env != "" {
		f := strings.FieldsFunc(env, func(r rune) bool {
			return r == ' ' || r == ',' || r == os.PathListSeparator || r == '\n' || r == '\t'
		})
		return f, "PYTHONS"
	}
	var roots []string
	if r := os.Getenv("PYENV_ROOT"); r != "" {
		roots = append(roots, r)
	}
	if out, err := exec.Command("pyenv", "root").Output(); err == nil {
		roots = append(roots, strings.TrimSpace(string(out)))
	}
	if home, err := os.UserHomeDir(); err == nil {
		roots = append(roots, filepath.Join(home, ".pyenv"))
	}
	for _, root := range roots {
		matches, _ := filepath.Glob(filepath.Join(root, "versions", "*", "bin", "python"))
		if len(matches) > 0 {
			return matches, "pyenv (" + root + ")"
		}
	}
	if p, err := exec.LookPath("python3"); err == nil {
		return []string{p}, "PATH"
	}
	return nil, ""
}

func findPythons() ([]python, string, error) {
	paths, from := candidatePythons()
	var out []python
	seen := map[string]bool{}
	for _, p := range paths {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		v, err := exec.CommandContext(ctx, p, "-c", "import sys; print('%d %d' % sys.version_info[:2])").Output()
		cancel()
		if err != nil {
			return nil, from, fmt.Errorf("interpreter %s does not run: %v", p, err)
		}
		var py python
		py.Path = p
		if _, err := fmt.Sscan(string(v), &py.Major, &py.Minor); err != nil {
			return nil, from, fmt.Errorf("interpreter %s: cannot parse version %q", p, v)
		}
		if seen[py.Name()] {
			continue
		}
		seen[py.Name()] = true
		out = append(out, py)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Major != out[j].Major {
			return out[i].Major < out[j].Major
		}
		return out[i].Minor < out[j].Minor
	})
	return out, from, nil
}

// pythons returns every interpreter found. With none it skips the test with a clear message,
// except under CI (CI=true), where finding none is a failure.
func pythons(t testing.TB) []python {
	t.Helper()
	pythonsOnce.Do(func() { pythonsList, pythonsFrom, pythonsErr = findPythons() })
	if pythonsErr != nil {
		t.Fatalf("compat: %v", pythonsErr)
	}
	if len(pythonsList) == 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("compat: no CPython found under CI (set PYTHONS, install pyenv versions, or put python3 on PATH)")
		}
		t.Skip("compat: no CPython interpreter found: set PYTHONS to a list of interpreters, install pyenv versions, or put python3 on PATH")
	}
	return pythonsList
}

// forEachPython runs f as a parallel-safe subtest named after each interpreter (e.g. "py3.12").
// Filter with keep (nil keeps all); a filtered interpreter shows as a skipped subtest with the reason.
func forEachPython(t *testing.T, keep func(python) string, f func(t *testing.T, py python)) {
	t.Helper()
	for _, py := range pythons(t) {
		t.Run(py.Name(), func(t *testing.T) {
			if keep != nil {
				if why := keep(py); why != "" {
					t.Skip(why)
				}
			}
			f(t, py)
		})
	}
}

// only3 is a forEachPython filter that skips Python 2.
func only3(py python) string {
	if py.IsPy2() {
		return "needs Python 3"
	}
	return ""
}

// repoRoot is the module's top directory.
func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(filepath.Dir(file))
}

// fixture returns the path of a script in python_fixtures/.
func fixture(name string) string { return filepath.Join(repoRoot(), "python_fixtures", name) }

// defaultPyTimeout bounds every Python process a test starts.
const defaultPyTimeout = 3 * time.Minute

// pyCommand prepares a Python process for a fixture script with arguments. The process is killed
// when the test ends (through its context) or after defaultPyTimeout.
func pyCommand(t testing.TB, py python, script string, args ...string) *exec.Cmd {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), defaultPyTimeout)
	t.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, py.Path, append([]string{"-u", fixture(script)}, args...)...)
	cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1", "PYTHONIOENCODING=utf-8")
	cmd.Dir = filepath.Join(repoRoot(), "python_fixtures")
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// runPython runs a fixture to completion and returns its stdout. A non-zero exit fails the test
// with the combined output.
func runPython(t testing.TB, py python, script string, args ...string) []byte {
	t.Helper()
	cmd := pyCommand(t, py, script, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s %s: %v\n--- stdout ---\n%s\n--- stderr ---\n%s", py.Name(), script, strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.Bytes()
}

// runPythonJSON runs a fixture and decodes the last non-empty stdout line as JSON into v.
func runPythonJSON(t testing.TB, py python, v any, script string, args ...string) {
	t.Helper()
	out := runPython(t, py, script, args...)
	line := lastLine(out)
	if err := json.Unmarshal(line, v); err != nil {
		t.Fatalf("%s %s: result is not JSON: %v\n%s", py.Name(), script, err, out)
	}
}

func lastLine(out []byte) []byte {
	lines := bytes.Split(bytes.TrimSpace(out), []byte("\n"))
	return lines[len(lines)-1]
}

// pyProc is a Python fixture running in the background.
type pyProc struct {
	t      testing.TB
	py     python
	script string
	cmd    *exec.Cmd
	lines  chan string
	stderr *lockedBuffer
	done   chan struct{}
	err    error
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startPython starts a fixture in the background. Its stdout lines are read with Line or
// JSONLine; it is killed when the test ends.
func startPython(t testing.TB, py python, script string, args ...string) *pyProc {
	t.Helper()
	return startPythonStdin(t, py, nil, script, args...)
}

// startPythonStdin is startPython with the process's standard input read from stdin (nil:
// none).
func startPythonStdin(t testing.TB, py python, stdin io.Reader, script string, args ...string) *pyProc {
	t.Helper()
	cmd := pyCommand(t, py, script, args...)
	cmd.Stdin = stdin
	p := &pyProc{t: t, py: py, script: script, cmd: cmd, lines: make(chan string, 1024), stderr: &lockedBuffer{}, done: make(chan struct{})}
	cmd.Stderr = p.stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s %s: %v", py.Name(), script, err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 1<<20), 64<<20)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// Line returns the next stdout line, failing the test (with stderr) if the process ends first or
// nothing arrives within the timeout.
func (p *pyProc) Line(timeout time.Duration) string {
	p.t.Helper()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case l, ok := <-p.lines:
		if !ok {
			<-p.done
			p.t.Fatalf("%s %s ended before printing a line: %v\n--- stderr ---\n%s", p.py.Name(), p.script, p.err, p.stderr.String())
		}
		return l
	case <-timer.C:
		p.t.Fatalf("%s %s: no output within %v\n--- stderr ---\n%s", p.py.Name(), p.script, timeout, p.stderr.String())
	}
	return ""
}

// JSONLine decodes the next stdout line as JSON into v.
func (p *pyProc) JSONLine(timeout time.Duration, v any) {
	p.t.Helper()
	l := p.Line(timeout)
	if err := json.Unmarshal([]byte(l), v); err != nil {
		p.t.Fatalf("%s %s: line is not JSON: %v: %q\n--- stderr ---\n%s", p.py.Name(), p.script, err, l, p.stderr.String())
	}
}

// Wait waits for the process to exit and fails the test on a non-zero exit, showing stderr and
// any stdout lines not yet read.
func (p *pyProc) Wait(timeout time.Duration) {
	p.t.Helper()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-p.done:
	case <-timer.C:
		_ = p.cmd.Process.Kill()
		<-p.done
		p.t.Fatalf("%s %s did not exit within %v\n--- stderr ---\n%s", p.py.Name(), p.script, timeout, p.stderr.String())
	}
	if p.err != nil {
		var rest []string
		for l := range p.lines {
			rest = append(rest, l)
		}
		p.t.Fatalf("%s %s: %v\n--- stdout (unread) ---\n%s\n--- stderr ---\n%s", p.py.Name(), p.script, p.err, strings.Join(rest, "\n"), p.stderr.String())
	}
}

// Stderr returns what the process wrote to stderr so far.
func (p *pyProc) Stderr() string { return p.stderr.String() }

var (
	binMu   sync.Mutex
	binDir  string                // where goBinary builds; removed by TestMain
	binDone = map[string]*built{} // by package
)

// built is the outcome of one goBinary build.
type built struct {
	path string
	err  error
}

// goBinary builds the module's package pkg (as "./cmd/mpgo") once per test binary, into a
// temporary directory TestMain removes, and returns the binary's path.
func goBinary(t testing.TB, pkg string) string {
	t.Helper()
	binMu.Lock()
	defer binMu.Unlock()
	b := binDone[pkg]
	if b == nil {
		b = &built{}
		binDone[pkg] = b
		if binDir == "" {
			binDir, b.err = os.MkdirTemp("", "mpgo-compat-bin-")
		}
		if b.err == nil {
			b.path = filepath.Join(binDir, filepath.Base(pkg))
			cmd := exec.Command("go", "build", "-o", b.path, pkg)
			cmd.Dir = repoRoot()
			if out, err := cmd.CombinedOutput(); err != nil {
				b.err = fmt.Errorf("go build %s: %v\n%s", pkg, err, out)
			}
		}
	}
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}

// mpgoBinary builds cmd/mpgo once per test binary and returns its path.
func mpgoBinary(t testing.TB) string { return goBinary(t, "./cmd/mpgo") }

// hexKey renders an authkey for a fixture's --authkey-hex argument.
func hexKey(key []byte) string { return fmt.Sprintf("%x", key) }

// tcpArgs renders a TCP address for fixtures: --host H --port P.
func tcpArgs(addr string) []string {
	host, port, _ := strings.Cut(addr, ":")
	if i := strings.LastIndex(addr, ":"); i >= 0 {
		host, port = addr[:i], addr[i+1:]
	}
	if _, err := strconv.Atoi(port); err != nil {
		panic("tcpArgs: not a host:port address: " + addr)
	}
	return []string{"--host", strings.Trim(host, "[]"), "--port", port}
}

// drain reads r to the end (used to keep pipes from blocking).
func drain(r io.Reader) { _, _ = io.Copy(io.Discard, r) }

// compatTimeout replaces go test's default 10-minute timeout for this package: the whole matrix
// (every CPython found, 9 on the development machine) takes 5 to 7 minutes on 2 cores, more on
// a loaded machine, and the README's plain `go test ./...` must not time out on it.
const compatTimeout = 40 * time.Minute

func TestMain(m *testing.M) {
	flag.Parse()
	if f := flag.Lookup("test.timeout"); f != nil && f.Value.String() == (10*time.Minute).String() {
		// The default (go test passes it explicitly); an explicit -timeout of another length is kept.
		_ = f.Value.Set(compatTimeout.String())
	}
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}
