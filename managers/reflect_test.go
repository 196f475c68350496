package managers_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/mpgo/mpgo/managers"
	"github.com/mpgo/mpgo/pickle"
)

type calc struct{ base int }

func (c *calc) Add(a, b int) int { return a + b + c.base }
func (c *calc) Div(a, b float64) (float64, error) {
	if b == 0 {
		return 0, managers.NewPyException("builtins", "ZeroDivisionError", "float division by zero")
	}
	return a / b, nil
}
func (c *calc) Sum(xs ...int64) int64 {
	var s int64
	for _, x := range xs {
		s += x
	}
	return s
}
func (c *calc) Wait(ctx context.Context) error { return ctx.Err() }
func (c *calc) DivMod(a, b int) (int, int)     { return a / b, a % b }
func (c *calc) HTTPGet(s string) string        { return "got " + s }
func (c *calc) Names(m map[string]int) int     { return len(m) }

func TestSnakeCase(t *testing.T) {
	for in, want := range map[string]string{"Add": "add", "MulAdd": "mul_add", "HTTPGet": "http_get", "Get2": "get2", "IsSet": "is_set", "X": "x"} {
		if got := managers.SnakeCase(in); got != want {
			t.Errorf("SnakeCase(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestReflect(t *testing.T) {
	r, err := managers.Reflect(&calc{base: 1})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(r.ExposedMethods(), ","); got != "add,div,div_mod,http_get,names,sum,wait" {
		t.Fatalf("exposed %s", got)
	}
	checks := []struct {
		method string
		args   []any
		want   string
	}{
		{"add", []any{int64(4), int64(3)}, "8"},
		{"div", []any{int64(7), 2.0}, "3.5"},
		{"sum", []any{int64(1), int64(2), int64(3)}, "6"},
		{"sum", nil, "0"},
		{"div_mod", []any{int64(7), int64(2)}, "(3, 1)"},
		{"http_get", []any{pickle.Py2String("x")}, "'got x'"},
		{"wait", nil, "None"},
	}
	for _, c := range checks {
		got, err := callObj(t, r, c.method, c.args...)
		if err != nil || pickle.Repr(got) != c.want {
			t.Errorf("%s%v = %s, %v; want %s", c.method, c.args, pickle.Repr(got), err, c.want)
		}
	}
	d := pickle.NewDict()
	d.Set("a", int64(1))
	if got, err := callObj(t, r, "names", d); err != nil || got != 1 {
		t.Errorf("names(dict) = %v, %v", got, err)
	}
	var pe *managers.PyException
	if _, err := callObj(t, r, "div", 1.0, 0.0); !errors.As(err, &pe) || pe.Name != "ZeroDivisionError" {
		t.Errorf("div by zero: %v", err)
	}
	if _, err := callObj(t, r, "add", int64(1)); !errors.As(err, &pe) || pe.Name != "TypeError" {
		t.Errorf("add(1): %v", err)
	}
	if _, err := callObj(t, r, "add", "x", int64(1)); !errors.As(err, &pe) || pe.Name != "TypeError" {
		t.Errorf("add('x', 1): %v", err)
	}
	if _, err := managers.Reflect(calc{}); err == nil || !strings.Contains(err.Error(), "pass a pointer") {
		t.Errorf("Reflect(value with pointer methods): %v", err)
	}
	named, err := managers.ReflectNames(&calc{}, map[string]string{"__add__": "Add"})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := callObj(t, named, "__add__", int64(1), int64(2)); got != 3 {
		t.Errorf("__add__ = %v", got)
	}
	if _, err := managers.ReflectNames(&calc{}, map[string]string{"x": "Nope"}); err == nil {
		t.Error("ReflectNames with a missing method")
	}
	typ, err := managers.ReflectType(func(base int) *calc { return &calc{base: base} }, nil)
	if err != nil {
		t.Fatal(err)
	}
	obj, err := typ.New(t.Context(), pickle.Tuple{int64(10)}, pickle.NewDict())
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := callObj(t, obj, "add", int64(1), int64(2)); got != 13 {
		t.Errorf("add on a ReflectType object = %v", got)
	}
}

func TestRegistry(t *testing.T) {
	r := managers.NewRegistry()
	if err := r.Register("", managers.Type{}); err == nil {
		t.Error("empty typeid accepted")
	}
	if err := r.Register("A", managers.Type{Exposed: []string{""}}); err == nil {
		t.Error("empty exposed name accepted")
	}
	if err := r.Register("A", managers.Type{MethodToTypeID: map[string]string{"x": ""}}); err == nil {
		t.Error("empty method_to_typeid target accepted")
	}
	if err := r.Register("A", managers.Type{}); err != nil {
		t.Fatal(err)
	}
	if err := r.Register("A", managers.Type{}); err == nil {
		t.Error("duplicate typeid accepted")
	}
	if _, ok := r.Lookup("A"); !ok || strings.Join(r.TypeIDs(), ",") != "A" {
		t.Error("Lookup/TypeIDs")
	}
}
