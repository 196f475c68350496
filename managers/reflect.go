package managers

import (
	"context"
	"fmt"
	"math"
	"math/big"
	"reflect"
	"sort"
	"strings"
	"sync"
	"unicode"

	"github.com/mpgo/mpgo/pickle"
)

// Reflected is an [Object] that exposes the exported methods of a Go value to Python clients,
// the way net/rpc exposes methods: see [Reflect]. It is safe for concurrent use if the
// wrapped value is.
type Reflected struct {
	v   reflect.Value
	tab *methodTable
}

// methodTable is computed once per type (and name map).
type methodTable struct {
	typeName string
	names    []string // Python names, sorted
	methods  map[string]*reflMethod
}

type reflMethod struct {
	pyName   string
	goName   string
	index    int // method index in the type's method set
	ctx      bool
	in       []reflect.Type // Python-visible parameters
	variadic bool
	nout     int  // results other than the trailing error
	err      bool // last result is an error
}

var (
	ctxType   = reflect.TypeFor[context.Context]()
	errorType = reflect.TypeFor[error]()

	tableCache sync.Map // reflect.Type -> *methodTable (default names only)
)

// skippedMethods are exported methods that belong to interfaces of this package or the pickle
// codec rather than to the Python API.
var skippedMethods = map[string]bool{
	"CallMethod": true, "ExposedMethods": true, "GetValue": true, "PyRepr": true, "PyStr": true,
	"MarshalPickle": true, "UnmarshalPickle": true,
}

// SnakeCase converts a Go method name to the Python name [Reflect] exposes it under:
// Add -> add, MulAdd -> mul_add, HTTPGet -> http_get, Get2 -> get2.
func SnakeCase(name string) string {
	rs := []rune(name)
	var b strings.Builder
	for i, r := range rs {
		if unicode.IsUpper(r) {
			if i > 0 && (unicode.IsLower(rs[i-1]) || unicode.IsDigit(rs[i-1]) ||
				(i+1 < len(rs) && unicode.IsLower(rs[i+1]) && unicode.IsUpper(rs[i-1]))) {
				b.WriteByte('_')
			}
			b.WriteRune(unicode.ToLower(r))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Reflect returns an [Object] exposing v's exported methods (those of v's type: pass a pointer
// to reach pointer-receiver methods) under their [SnakeCase] names. The method table is
// computed once per type and cached.
//
// Calls: Python positional arguments are converted to the Go parameter types (an `any`
// parameter receives the pickle value model as is; other types are converted as pickle
// Unmarshal would); a first parameter of type context.Context receives the call's context;
// variadic methods take any number of trailing arguments; keyword arguments are refused
// (Go has no parameter names). Results: none is None, one is the value, several are a tuple;
// a trailing error result is raised ([*PyException] as its Python class, others as a
// traceback). Methods named CallMethod, ExposedMethods, GetValue, PyRepr, PyStr,
// MarshalPickle and UnmarshalPickle are not exposed; if v implements [ValueGetter], [Reprer]
// or [PyStringer] the server's fallbacks use them.
func Reflect(v any) (*Reflected, error) {
	if v == nil {
		return nil, fmt.Errorf("managers: Reflect(nil)")
	}
	t := reflect.TypeOf(v)
	if cached, ok := tableCache.Load(t); ok {
		return &Reflected{v: reflect.ValueOf(v), tab: cached.(*methodTable)}, nil
	}
	tab, err := newMethodTable(t, nil)
	if err != nil {
		return nil, err
	}
	tableCache.Store(t, tab)
	return &Reflected{v: reflect.ValueOf(v), tab: tab}, nil
}

// ReflectNames is like [Reflect] but exposes exactly the methods in names, which maps Python
// names to Go method names (e.g. {"__len__": "Len", "add": "Add"}).
func ReflectNames(v any, names map[string]string) (*Reflected, error) {
	if v == nil {
		return nil, fmt.Errorf("managers: ReflectNames(nil)")
	}
	tab, err := newMethodTable(reflect.TypeOf(v), names)
	if err != nil {
		return nil, err
	}
	return &Reflected{v: reflect.ValueOf(v), tab: tab}, nil
}

// ReflectType returns a [Type] whose 'create' calls newFn (a function such as
// func() *Maths or func(start int) (*Counter, error), its arguments converted like method
// arguments) and exposes the result's methods as [Reflect] does, or through names when it is
// not nil. The method tables are computed here, once.
func ReflectType(newFn any, names map[string]string) (Type, error) {
	fv := reflect.ValueOf(newFn)
	if fv.Kind() != reflect.Func {
		return Type{}, fmt.Errorf("managers: ReflectType: newFn is %T, not a function", newFn)
	}
	ft := fv.Type()
	if ft.NumOut() == 0 || ft.NumOut() > 2 || (ft.NumOut() == 2 && ft.Out(1) != errorType) {
		return Type{}, fmt.Errorf("managers: ReflectType: newFn must return T or (T, error), not %s", ft)
	}
	ctor, err := newReflMethod("__init__", "New", -1, ft, false)
	if err != nil {
		return Type{}, err
	}
	tab, err := newMethodTable(ft.Out(0), names)
	if err != nil {
		return Type{}, err
	}
	exposed := append([]string{}, tab.names...)
	return Type{
		Exposed: exposed,
		New: func(ctx context.Context, args pickle.Tuple, kwargs *pickle.Dict) (Object, error) {
			res, err := ctor.call(ctx, fv, tab.typeName, args, kwargs)
			if err != nil {
				return nil, err
			}
			if len(res) == 0 || !res[0].IsValid() {
				return nil, fmt.Errorf("managers: %s constructor returned nothing", tab.typeName)
			}
			if (res[0].Kind() == reflect.Pointer || res[0].Kind() == reflect.Interface) && res[0].IsNil() {
				return nil, fmt.Errorf("managers: %s constructor returned nil", tab.typeName)
			}
			return &Reflected{v: res[0], tab: tab}, nil
		},
	}, nil
}

func newMethodTable(t reflect.Type, names map[string]string) (*methodTable, error) {
	tab := &methodTable{typeName: strings.TrimLeft(t.String(), "*"), methods: map[string]*reflMethod{}}
	if names != nil {
		for py, goName := range names {
			m, ok := t.MethodByName(goName)
			if !ok {
				hint := ""
				if t.Kind() != reflect.Pointer {
					if _, ok := reflect.PointerTo(t).MethodByName(goName); ok {
						hint = " (it has a pointer receiver: pass a pointer)"
					}
				}
				return nil, fmt.Errorf("managers: type %s has no exported method %s%s", t, goName, hint)
			}
			rm, err := newReflMethod(py, goName, m.Index, m.Type, true)
			if err != nil {
				return nil, err
			}
			tab.methods[py] = rm
		}
	} else {
		for i := 0; i < t.NumMethod(); i++ {
			m := t.Method(i)
			if skippedMethods[m.Name] {
				continue
			}
			py := SnakeCase(m.Name)
			rm, err := newReflMethod(py, m.Name, i, m.Type, true)
			if err != nil {
				return nil, err
			}
			if _, dup := tab.methods[py]; dup {
				return nil, fmt.Errorf("managers: type %s: two methods map to the Python name %q", t, py)
			}
			tab.methods[py] = rm
		}
		if len(tab.methods) == 0 {
			hint := ""
			if t.Kind() != reflect.Pointer && reflect.PointerTo(t).NumMethod() > 0 {
				hint = " (its methods have pointer receivers: pass a pointer)"
			}
			return nil, fmt.Errorf("managers: type %s has no exported methods to expose%s", t, hint)
		}
	}
	for n := range tab.methods {
		tab.names = append(tab.names, n)
	}
	sort.Strings(tab.names)
	return tab, nil
}

func newReflMethod(py, goName string, index int, ft reflect.Type, hasRecv bool) (*reflMethod, error) {
	rm := &reflMethod{pyName: py, goName: goName, index: index, variadic: ft.IsVariadic()}
	first := 0
	if hasRecv {
		first = 1
	}
	for i := first; i < ft.NumIn(); i++ {
		in := ft.In(i)
		if i == first && in == ctxType {
			rm.ctx = true
			continue
		}
		rm.in = append(rm.in, in)
	}
	n := ft.NumOut()
	if n > 0 && ft.Out(n-1) == errorType {
		rm.err = true
		n--
	}
	rm.nout = n
	return rm, nil
}

// call converts the arguments, calls fn (a method value or function) and returns its results
// without the error.
func (m *reflMethod) call(ctx context.Context, fn reflect.Value, typeName string, args pickle.Tuple, kwargs *pickle.Dict) ([]reflect.Value, error) {
	qual := typeName + "." + m.pyName
	if kwargs != nil && kwargs.Len() > 0 {
		return nil, NewPyException("builtins", "TypeError", qual+"() takes no keyword arguments")
	}
	nfixed := len(m.in)
	if m.variadic {
		nfixed--
	}
	if len(args) < nfixed || (!m.variadic && len(args) > nfixed) {
		want := fmt.Sprintf("exactly %d", nfixed)
		if m.variadic {
			want = fmt.Sprintf("at least %d", nfixed)
		}
		plural := "s"
		if nfixed == 1 {
			plural = ""
		}
		return nil, NewPyException("builtins", "TypeError", fmt.Sprintf("%s() takes %s argument%s (%d given)", qual, want, plural, len(args)))
	}
	in := make([]reflect.Value, 0, len(args)+1)
	if m.ctx {
		in = append(in, reflect.ValueOf(ctx))
	}
	for i, a := range args {
		var t reflect.Type
		if i < nfixed {
			t = m.in[i]
		} else {
			t = m.in[nfixed].Elem()
		}
		v, err := convertArg(a, t)
		if err != nil {
			return nil, NewPyException("builtins", "TypeError", fmt.Sprintf("%s() argument %d: %v", qual, i+1, err))
		}
		in = append(in, v)
	}
	out := fn.Call(in)
	if m.err {
		if e := out[len(out)-1]; !e.IsNil() {
			return nil, e.Interface().(error)
		}
		out = out[:len(out)-1]
	}
	return out, nil
}

// convertArg converts a value-model value to Go type t.
func convertArg(a any, t reflect.Type) (reflect.Value, error) {
	if a == nil {
		switch t.Kind() {
		case reflect.Interface, reflect.Pointer, reflect.Slice, reflect.Map:
			return reflect.Zero(t), nil
		}
		return reflect.Value{}, fmt.Errorf("None is not a %s", t)
	}
	av := reflect.ValueOf(a)
	if av.Type().AssignableTo(t) {
		v := reflect.New(t).Elem()
		v.Set(av)
		return v, nil
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return convertInt(a, t)
	case reflect.Float32, reflect.Float64:
		f, ok := pyFloat(a)
		if !ok {
			if x, isF := a.(float64); isF && math.IsNaN(x) {
				f, ok = x, true
			}
		}
		if !ok {
			return reflect.Value{}, fmt.Errorf("must be real number, not %s", pickle.TypeName(a))
		}
		v := reflect.New(t).Elem()
		v.SetFloat(f)
		return v, nil
	case reflect.String:
		s, ok := asStr(a)
		if !ok {
			return reflect.Value{}, fmt.Errorf("must be str, not %s", pickle.TypeName(a))
		}
		v := reflect.New(t).Elem()
		v.SetString(s)
		return v, nil
	case reflect.Bool:
		v := reflect.New(t).Elem()
		v.SetBool(pyTruth(a))
		return v, nil
	}
	// Anything else: by pickle's typed rules (those of Unmarshal).
	p := reflect.New(t)
	if err := pickle.Convert(a, p.Interface()); err != nil {
		return reflect.Value{}, err
	}
	return p.Elem(), nil
}

// convertInt converts a Python int (or bool) to the integer type t; a value out of t's range
// is an error.
func convertInt(a any, t reflect.Type) (reflect.Value, error) {
	var n int64
	switch x := a.(type) {
	case int64:
		n = x
	case pickle.Py2Int:
		n = int64(x)
	case pickle.Py2Long:
		n = int64(x)
	case bool:
		if x {
			n = 1
		}
	case *big.Int:
		// Normalised: a *big.Int never fits in int64, so only a uint64 target can hold it.
		v := reflect.New(t).Elem()
		if !v.CanUint() || !x.IsUint64() || v.OverflowUint(x.Uint64()) {
			return reflect.Value{}, fmt.Errorf("int out of range for %s", t)
		}
		v.SetUint(x.Uint64())
		return v, nil
	default:
		return reflect.Value{}, fmt.Errorf("'%s' object cannot be interpreted as an integer", pickle.TypeName(a))
	}
	v := reflect.New(t).Elem()
	if v.CanInt() {
		if v.OverflowInt(n) {
			return reflect.Value{}, fmt.Errorf("int %d out of range for %s", n, t)
		}
		v.SetInt(n)
		return v, nil
	}
	if n < 0 || v.OverflowUint(uint64(n)) {
		return reflect.Value{}, fmt.Errorf("int %d out of range for %s", n, t)
	}
	v.SetUint(uint64(n))
	return v, nil
}

// CallMethod calls the method exposed as name.
func (r *Reflected) CallMethod(ctx context.Context, name string, args pickle.Tuple, kwargs *pickle.Dict) (any, error) {
	m := r.tab.methods[name]
	if m == nil {
		return nil, NewPyException("builtins", "AttributeError", fmt.Sprintf("'%s' object has no attribute '%s'", r.tab.typeName, name))
	}
	out, err := m.call(ctx, r.v.Method(m.index), r.tab.typeName, args, kwargs)
	if err != nil {
		return nil, err
	}
	switch len(out) {
	case 0:
		return nil, nil
	case 1:
		return out[0].Interface(), nil
	}
	t := make(pickle.Tuple, len(out))
	for i, o := range out {
		t[i] = o.Interface()
	}
	return t, nil
}

// ExposedMethods returns the Python names of the exposed methods, sorted.
func (r *Reflected) ExposedMethods() []string { return append([]string(nil), r.tab.names...) }

// Value returns the wrapped Go value.
func (r *Reflected) Value() any { return r.v.Interface() }

// GetValue serves '#GETVALUE': the wrapped value's GetValue if it is a [ValueGetter], else
// the wrapped value itself (pickled through the codec).
func (r *Reflected) GetValue() (any, error) {
	if g, ok := r.v.Interface().(ValueGetter); ok {
		return g.GetValue()
	}
	return r.v.Interface(), nil
}

// PyRepr is the wrapped value's PyRepr, else "<TypeName object>".
func (r *Reflected) PyRepr() string {
	if p, ok := r.v.Interface().(Reprer); ok {
		return p.PyRepr()
	}
	return "<" + r.tab.typeName + " object>"
}
