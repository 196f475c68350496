package host

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
)

// FindPython returns the interpreter for v: v itself if it is a path, else
// the newest pyenv CPython v.* (pyenv root from $PYENV_ROOT, `pyenv root` or
// ~/.pyenv), else pythonV on PATH.
func FindPython(v string) (string, error) {
	if strings.ContainsRune(v, os.PathSeparator) {
		return v, nil
	}
	root := os.Getenv("PYENV_ROOT")
	if root == "" {
		if out, err := exec.Command("pyenv", "root").Output(); err == nil {
			root = strings.TrimSpace(string(out))
		} else if h, err := os.UserHomeDir(); err == nil {
			root = filepath.Join(h, ".pyenv")
		}
	}
	matches, _ := filepath.Glob(filepath.Join(root, "versions", v+".*", "bin", "python"))
	sort.Strings(matches)
	if len(matches) > 0 {
		return matches[len(matches)-1], nil
	}
	if p, err := exec.LookPath("python" + v); err == nil {
		return p, nil
	}
	return "", errors.New("python " + v + " not installed")
}

// RaiseNoFile raises RLIMIT_NOFILE to its hard limit (children inherit it).
func RaiseNoFile() {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err == nil && r.Cur < r.Max {
		r.Cur = r.Max
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &r)
	}
}

// VmRSS returns the resident set size of process pid (0: this process) in
// KiB, from /proc (Linux).
func VmRSS(pid int) (int64, error) {
	path := "/proc/self/status"
	if pid != 0 {
		path = fmt.Sprintf("/proc/%d/status", pid)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			return strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
		}
	}
	return 0, fmt.Errorf("no VmRSS in %s", path)
}

// Build builds the package pkg of this module ("./cmd/mpgo", say) into dir/name with go
// build, extra arguments (such as "-tags", "mpgo_pprof") before the package, and returns the
// binary's path. The module root is found from the working directory, so a benchmark runs
// from anywhere inside the repository.
func Build(ctx context.Context, dir, name, pkg string, extra ...string) (string, error) {
	root, err := ModuleRoot()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, name)
	args := append(append([]string{"build", "-o", bin}, extra...), pkg)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return bin, nil
}

// ModuleRoot returns the directory of the go.mod found from the working directory upwards.
func ModuleRoot() (string, error) {
	d, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		p := filepath.Dir(d)
		if p == d {
			return "", errors.New("go.mod not found: run from the repository")
		}
		d = p
	}
}
