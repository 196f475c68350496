package host

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestVmRSS(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("/proc is Linux's")
	}
	self, err := VmRSS(0)
	if err != nil || self <= 0 {
		t.Fatalf("VmRSS(0) = %d, %v", self, err)
	}
	if byPid, err := VmRSS(os.Getpid()); err != nil || byPid <= 0 {
		t.Fatalf("VmRSS(pid) = %d, %v", byPid, err)
	}
	if _, err := VmRSS(-5); err == nil {
		t.Fatal("VmRSS of no process succeeded")
	}
}

func TestFindPythonPath(t *testing.T) {
	if got, err := FindPython("/opt/x/python"); err != nil || got != "/opt/x/python" {
		t.Fatalf("a path is returned as it is: %q, %v", got, err)
	}
	if _, err := FindPython("0.0"); err == nil {
		t.Fatal("python 0.0 found")
	}
}

func TestModuleRoot(t *testing.T) {
	root, err := ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil || !strings.HasPrefix(string(b), "module github.com/mpgo/mpgo\n") {
		t.Fatalf("%s/go.mod: %.40q, %v", root, b, err)
	}
}
