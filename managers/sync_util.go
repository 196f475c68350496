package managers

import (
	"context"
	"fmt"
	"math"
	"math/big"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mpgo/mpgo/pickle"
)

// This file holds the helpers shared by the SyncManager types (sync_*.go): Python-style argument
// binding, number conversions, slices, iteration of argument values and blocking waits.

// python2Key marks the context of a method call made by a Python 2 client.
type python2Key struct{}

// withPython2 marks ctx as the context of calls from a Python 2 client; the server sets it on
// the method-call contexts of Python 2 connections.
func withPython2(ctx context.Context) context.Context {
	return context.WithValue(ctx, python2Key{}, true)
}

// isPython2 reports whether the call comes from a Python 2 client (when the server says so),
// for the few results whose type differs in Python 2 (Condition.wait returns None there).
func isPython2(ctx context.Context) bool {
	v, _ := ctx.Value(python2Key{}).(bool)
	return v
}

// pyErr returns a builtins exception.
func pyErr(name string, args ...any) *PyException { return NewPyException("builtins", name, args...) }

// typeErrorf returns a builtins.TypeError with a formatted message.
func typeErrorf(format string, a ...any) *PyException {
	return pyErr("TypeError", fmt.Sprintf(format, a...))
}

// notImplemented is Python's NotImplemented singleton (it pickles as the global
// builtins.NotImplemented).
var notImplemented = pickle.Global{Module: "builtins", Name: "NotImplemented"}

// maxSeqLen bounds the length of a list or array built by repetition (l * n, l *= n): beyond it
// the method raises MemoryError instead of exhausting the server's memory.
const maxSeqLen = 1 << 25

// param is one parameter of a Python signature for bindArgs.
type param struct {
	name     string
	def      any  // default value when optional
	required bool // no default
	kwOnly   bool // keyword-only (after a bare * in Python)
}

func req(name string) param          { return param{name: name, required: true} }
func opt(name string, def any) param { return param{name: name, def: def} }
func kwo(name string, def any) param { return param{name: name, def: def, kwOnly: true} }

// bindArgs binds positional args and keyword arguments to params as Python binds the call of
// def fname(params...), with CPython's TypeError texts.
func bindArgs(fname string, args pickle.Tuple, kwargs *pickle.Dict, params ...param) ([]any, error) {
	out := make([]any, len(params))
	set := make([]bool, len(params))
	npos := 0
	for _, p := range params {
		if !p.kwOnly {
			npos++
		}
	}
	if len(args) > npos {
		if npos == 0 {
			return nil, typeErrorf("%s() takes no positional arguments", fname)
		}
		nreq := 0
		for _, p := range params[:npos] {
			if p.required {
				nreq++
			}
		}
		if nreq == npos {
			return nil, typeErrorf("%s() takes %d positional argument%s but %d %s given", fname, npos, plural(npos), len(args), wereWas(len(args)))
		}
		return nil, typeErrorf("%s() takes from %d to %d positional arguments but %d %s given", fname, nreq, npos, len(args), wereWas(len(args)))
	}
	for i, a := range args {
		out[i] = a
		set[i] = true
	}
	if kwargs != nil {
		for _, it := range kwargs.Items() {
			k, ok := asStr(it.Key)
			if !ok {
				return nil, typeErrorf("keywords must be strings")
			}
			found := false
			for i, p := range params {
				if p.name == k {
					if set[i] {
						return nil, typeErrorf("%s() got multiple values for argument '%s'", fname, k)
					}
					out[i], set[i], found = it.Value, true, true
					break
				}
			}
			if !found {
				return nil, typeErrorf("%s() got an unexpected keyword argument '%s'", fname, k)
			}
		}
	}
	var missing []string
	for i, p := range params {
		if !set[i] {
			if p.required {
				missing = append(missing, "'"+p.name+"'")
				continue
			}
			out[i] = p.def
		}
	}
	if len(missing) > 0 {
		return nil, typeErrorf("%s() missing %d required positional argument%s: %s", fname, len(missing), plural(len(missing)), joinNames(missing))
	}
	return out, nil
}

// noArgs checks that a method taking no arguments got none.
func noArgs(fname string, args pickle.Tuple, kwargs *pickle.Dict) error {
	if kwargs != nil && kwargs.Len() > 0 {
		return typeErrorf("%s() takes no keyword arguments", fname)
	}
	if len(args) > 0 {
		return typeErrorf("%s() takes no arguments (%d given)", fname, len(args))
	}
	return nil
}

// posArgs checks a C-style method taking between min and max positional arguments and no
// keywords (CPython's "expected at least/most" texts).
func posArgs(fname string, args pickle.Tuple, kwargs *pickle.Dict, min, max int) error {
	if kwargs != nil && kwargs.Len() > 0 {
		return typeErrorf("%s() takes no keyword arguments", fname)
	}
	switch {
	case min == max && len(args) != min:
		if min == 1 {
			return typeErrorf("%s() takes exactly one argument (%d given)", fname, len(args))
		}
		return typeErrorf("%s expected %d argument%s, got %d", fname, min, plural(min), len(args))
	case len(args) < min:
		return typeErrorf("%s expected at least %d argument%s, got %d", fname, min, plural(min), len(args))
	case len(args) > max:
		return typeErrorf("%s expected at most %d argument%s, got %d", fname, max, plural(max), len(args))
	}
	return nil
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func wereWas(n int) string {
	if n == 1 {
		return "was"
	}
	return "were"
}

func joinNames(names []string) string {
	switch len(names) {
	case 1:
		return names[0]
	case 2:
		return names[0] + " and " + names[1]
	}
	return strings.Join(names[:len(names)-1], ", ") + ", and " + names[len(names)-1]
}

// asInt converts a Python int (or bool) to int64. big is true for an int that does not fit in
// int64; ok is false for any other type.
func asInt(v any) (n int64, isBig bool, ok bool) {
	switch x := v.(type) {
	case int64:
		return x, false, true
	case pickle.Py2Int:
		return int64(x), false, true
	case pickle.Py2Long:
		return int64(x), false, true
	case int:
		return int64(x), false, true
	case int32:
		return int64(x), false, true
	case bool:
		if x {
			return 1, false, true
		}
		return 0, false, true
	case *big.Int:
		if x.IsInt64() {
			return x.Int64(), false, true
		}
		if x.Sign() < 0 {
			return math.MinInt64, true, true
		}
		return math.MaxInt64, true, true
	}
	return 0, false, false
}

// asIndex converts an index argument as Python's __index__ does; a too-large int raises err
// (IndexError or OverflowError "cannot fit 'int' into an index-sized integer").
func asIndex(v any, overflowExc string) (int64, error) {
	n, isBig, ok := asInt(v)
	if !ok {
		return 0, typeErrorf("'%s' object cannot be interpreted as an integer", pickle.TypeName(v))
	}
	if isBig {
		return 0, pyErr(overflowExc, "cannot fit 'int' into an index-sized integer")
	}
	return n, nil
}

// asFloat converts a Python real number (int, bool, float) to float64.
func asFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case float32:
		return float64(x), true
	case *big.Int:
		f, _ := new(big.Float).SetInt(x).Float64()
		return f, true
	}
	if n, _, ok := asInt(v); ok {
		return float64(n), true
	}
	return 0, false
}

// truthy is Python's bool(v) for the value model.
func truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case int64:
		return x != 0
	case pickle.Py2Int:
		return x != 0
	case pickle.Py2Long:
		return x != 0
	case float64:
		return x != 0
	case string:
		return x != ""
	case pickle.Py2String:
		return x != ""
	case []byte:
		return len(x) > 0
	case pickle.ByteArray:
		return len(x) > 0
	case pickle.Tuple:
		return len(x) > 0
	case *pickle.List:
		return len(x.Items) > 0
	case *pickle.Dict:
		return x.Len() > 0
	case *pickle.Set:
		return x.Len() > 0
	case pickle.FrozenSet:
		return x.Len() > 0
	case *big.Int:
		return x.Sign() != 0
	case complex128:
		return x != 0
	}
	return true
}

// pySlice is a decoded Python slice(start, stop, step).
type pySlice struct{ start, stop, step any }

// asSlice recognises a builtins.slice object.
func asSlice(v any) (pySlice, bool) {
	o, ok := v.(*pickle.Object)
	if !ok || o.Class.Module != "builtins" || o.Class.Name != "slice" {
		return pySlice{}, false
	}
	var s pySlice
	switch len(o.Args) {
	case 1:
		s.stop = o.Args[0]
	case 2:
		s.start, s.stop = o.Args[0], o.Args[1]
	case 3:
		s.start, s.stop, s.step = o.Args[0], o.Args[1], o.Args[2]
	default:
		return pySlice{}, false
	}
	return s, true
}

// sliceIndex converts one slice bound (None allowed) clamping big ints as CPython does.
func sliceIndex(v any) (int64, bool, error) {
	if v == nil {
		return 0, false, nil
	}
	n, _, ok := asInt(v)
	if !ok {
		return 0, false, typeErrorf("slice indices must be integers or None or have an __index__ method")
	}
	return n, true, nil
}

// indices is slice.indices(length) plus the slice length, with CPython's errors.
func (s pySlice) indices(length int64) (start, stop, step, n int64, err error) {
	step = 1
	if s.step != nil {
		st, _, e := sliceIndex(s.step)
		if e != nil {
			return 0, 0, 0, 0, e
		}
		if st == 0 {
			return 0, 0, 0, 0, pyErr("ValueError", "slice step cannot be zero")
		}
		step = st
		if step < -math.MaxInt64 {
			step = -math.MaxInt64
		}
	}
	var defStart, defStop int64
	if step < 0 {
		defStart, defStop = math.MaxInt64, math.MinInt64
	} else {
		defStart, defStop = 0, math.MaxInt64
	}
	start, has, e := sliceIndex(s.start)
	if e != nil {
		return 0, 0, 0, 0, e
	}
	if !has {
		start = defStart
	}
	stop, has, e = sliceIndex(s.stop)
	if e != nil {
		return 0, 0, 0, 0, e
	}
	if !has {
		stop = defStop
	}
	start = adjustIndex(start, length, step)
	stop = adjustIndex(stop, length, step)
	switch {
	case step < 0:
		if stop < start {
			n = (start-stop-1)/(-step) + 1
		}
	default:
		if start < stop {
			n = (stop-start-1)/step + 1
		}
	}
	return start, stop, step, n, nil
}

// adjustIndex is PySlice_AdjustIndices for one bound.
func adjustIndex(i, length, step int64) int64 {
	if i < 0 {
		if i < -length {
			if step < 0 {
				return -1
			}
			return 0
		}
		return i + length
	}
	if i >= length {
		if step < 0 {
			return length - 1
		}
		return length
	}
	return i
}

// clampRange turns (start, stop) arguments of index()/2.7 slice methods into [0, length].
func clampRange(start, stop, length int64) (int64, int64) {
	if start < 0 {
		start += length
		if start < 0 {
			start = 0
		}
	}
	if stop < 0 {
		stop += length
		if stop < 0 {
			stop = 0
		}
	}
	if start > length {
		start = length
	}
	if stop > length {
		stop = length
	}
	return start, stop
}

// iterValues returns the items Python's iter(v) would yield for a value-model value (and for a
// live reference to a shared list, dict or array).
func iterValues(v any) ([]any, error) {
	switch x := v.(type) {
	case *pickle.List:
		return append([]any(nil), x.Items...), nil
	case []any:
		return append([]any(nil), x...), nil
	case pickle.Tuple:
		return append([]any(nil), x...), nil
	case string:
		out := make([]any, 0, utf8.RuneCountInString(x))
		for _, r := range x {
			out = append(out, string(r))
		}
		return out, nil
	case pickle.Py2String:
		out := make([]any, len(x))
		for i := 0; i < len(x); i++ {
			out[i] = pickle.Py2String(x[i : i+1])
		}
		return out, nil
	case []byte:
		out := make([]any, len(x))
		for i, b := range x {
			out[i] = int64(b)
		}
		return out, nil
	case pickle.ByteArray:
		out := make([]any, len(x))
		for i, b := range x {
			out[i] = int64(b)
		}
		return out, nil
	case *pickle.Dict:
		return x.Keys(), nil
	case *pickle.Set:
		return x.Items(), nil
	case pickle.FrozenSet:
		return x.Items(), nil
	case *Ref:
		switch o := x.Object().(type) {
		case *List:
			return o.snapshot(), nil
		case *Dict:
			o.mu.Lock()
			defer o.mu.Unlock()
			return o.d.Keys(), nil
		case *Array:
			return o.values(), nil
		}
	case *pickle.Object:
		if x.Class.Module == "builtins" && x.Class.Name == "range" {
			return rangeValues(x.Args)
		}
		if _, vals, ok := decodeArray(x); ok {
			return vals, nil
		}
	}
	return nil, typeErrorf("'%s' object is not iterable", pickle.TypeName(v))
}

// snapshotArg replaces a live reference to another shared list, dict or array by a copy of its
// value (changed is true then). Methods that consume an iterable argument (extend, update, slice
// assignment, ...) take the copy before locking their own object, so that two objects consuming
// each other (a.extend(b) while b.extend(a)) never hold both locks: no deadlock. A reference to
// self is kept (the method reads its own items under its lock).
func snapshotArg(v any, self Object) (value any, changed bool) {
	r, ok := v.(*Ref)
	if !ok {
		return v, false
	}
	switch o := r.Object().(type) {
	case *List, *Dict, *Array:
		if o == self {
			return v, false
		}
		if val, err := o.(ValueGetter).GetValue(); err == nil {
			return val, true
		}
	}
	return v, false
}

// snapshotArgs is snapshotArg for args[i] (on a copy of args), for each index i < len(args).
func snapshotArgs(args pickle.Tuple, self Object, idx ...int) pickle.Tuple {
	var out pickle.Tuple
	for _, i := range idx {
		if i >= len(args) {
			continue
		}
		if v, changed := snapshotArg(args[i], self); changed {
			if out == nil {
				out = append(pickle.Tuple(nil), args...)
			}
			out[i] = v
		}
	}
	if out == nil {
		return args
	}
	return out
}

// rangeValues expands a pickled range(start, stop, step).
func rangeValues(args pickle.Tuple) ([]any, error) {
	if len(args) != 3 {
		return nil, typeErrorf("'range' object is not iterable")
	}
	start, _, ok1 := asInt(args[0])
	stop, _, ok2 := asInt(args[1])
	step, _, ok3 := asInt(args[2])
	if !ok1 || !ok2 || !ok3 || step == 0 {
		return nil, typeErrorf("'range' object is not iterable")
	}
	var n int64
	if step > 0 && start < stop {
		n = (stop-start-1)/step + 1
	} else if step < 0 && start > stop {
		n = (start-stop-1)/(-step) + 1
	}
	if n > maxSeqLen {
		return nil, pyErr("MemoryError")
	}
	out := make([]any, 0, n)
	for i := int64(0); i < n; i++ {
		out = append(out, start+i*step)
	}
	return out, nil
}

// timeoutArg converts a Python timeout (None: forever) to a duration; forever is true for None.
// A non-number raises the TypeError that comparing it with a number raises in Python.
func timeoutArg(v any, op string) (d time.Duration, forever bool, err error) {
	if v == nil {
		return 0, true, nil
	}
	f, ok := asFloat(v)
	if !ok {
		return 0, false, typeErrorf("'%s' not supported between instances of '%s' and 'int'", op, pickle.TypeName(v))
	}
	return secondsToDuration(f), false, nil
}

// secondsToDuration converts seconds to a duration, saturating; NaN and negatives give 0 or less.
func secondsToDuration(f float64) time.Duration {
	switch {
	case math.IsNaN(f):
		return 0
	case f >= float64(math.MaxInt64)/1e9:
		return time.Duration(math.MaxInt64)
	case f <= -float64(math.MaxInt64)/1e9:
		return -time.Duration(math.MaxInt64)
	}
	return time.Duration(f * 1e9)
}

// waitFor waits until ch is closed, the timeout ends (forever: no timeout) or ctx is done. It
// reports whether ch was closed.
func waitFor(ctx context.Context, ch <-chan struct{}, timer <-chan time.Time) (bool, error) {
	select {
	case <-ch:
		return true, nil
	case <-timer:
		return false, nil
	case <-ctx.Done():
		return false, ctx.Err()
	}
}

// deadline is a lazily created timer for a blocking call.
type deadline struct {
	t *time.Timer
}

// newDeadline returns a deadline firing after d, or never when forever is true.
func newDeadline(d time.Duration, forever bool) *deadline {
	if forever {
		return &deadline{}
	}
	if d < 0 {
		d = 0
	}
	return &deadline{t: time.NewTimer(d)}
}

// C is the channel to select on (nil: never fires).
func (d *deadline) C() <-chan time.Time {
	if d.t == nil {
		return nil
	}
	return d.t.C
}

// Stop releases the timer.
func (d *deadline) Stop() {
	if d.t != nil {
		d.t.Stop()
	}
}

// broadcast is a condition variable usable with select: waiters take the current channel under
// the owner's mutex and wait on it; notifyAll closes it and installs a new one.
type broadcast struct {
	ch chan struct{}
}

// wait returns the channel to wait on; call with the owner's mutex held.
func (b *broadcast) wait() <-chan struct{} {
	if b.ch == nil {
		b.ch = make(chan struct{})
	}
	return b.ch
}

// notifyAll wakes every waiter; call with the owner's mutex held.
func (b *broadcast) notifyAll() {
	if b.ch != nil {
		close(b.ch)
		b.ch = nil
	}
}

// unknownMethod is the AttributeError for a method the object does not have.
func unknownMethod(typeName, name string) error {
	return pyErr("AttributeError", fmt.Sprintf("'%s' object has no attribute '%s'", typeName, name))
}
