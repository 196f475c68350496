package natsqueue

import (
	"fmt"
	"math"
	"math/big"
	"strings"
	"time"

	"github.com/mpgo/mpgo/managers"
	"github.com/mpgo/mpgo/pickle"
)

// This file binds Python call arguments as managers.Queue does (its helpers are unexported in
// package managers), with CPython's TypeError and ValueError texts.

func typeError(msg string) error { return managers.NewPyException("builtins", "TypeError", msg) }

// bindCall binds Python call arguments to params as a Python signature
// fn(params[0], params[1]=defaults[...], ...) would: the last len(defaults) parameters are
// optional. It returns one value per parameter or a TypeError with CPython's wording.
func bindCall(fn string, params []string, defaults []any, args pickle.Tuple, kwargs *pickle.Dict) ([]any, error) {
	required := len(params) - len(defaults)
	out := make([]any, len(params))
	set := make([]bool, len(params))
	if len(args) > len(params) {
		takes := fmt.Sprintf("%d positional argument", len(params)+1)
		if len(defaults) > 0 {
			takes = fmt.Sprintf("from %d to %d positional argument", required+1, len(params)+1)
		}
		if len(params)+1 != 1 || len(defaults) > 0 {
			takes += "s"
		}
		return nil, typeError(fmt.Sprintf("%s() takes %s but %d were given", fn, takes, len(args)+1))
	}
	for i, a := range args {
		out[i], set[i] = a, true
	}
	if kwargs != nil {
		var err error
		kwargs.Range(func(k, v any) bool {
			ks, _ := asStr(k)
			for i, p := range params {
				if p == ks {
					if set[i] {
						err = typeError(fmt.Sprintf("%s() got multiple values for argument '%s'", fn, ks))
						return false
					}
					out[i], set[i] = v, true
					return true
				}
			}
			err = typeError(fmt.Sprintf("%s() got an unexpected keyword argument '%s'", fn, ks))
			return false
		})
		if err != nil {
			return nil, err
		}
	}
	var missing []string
	for i := range params {
		if set[i] {
			continue
		}
		if i >= required {
			out[i] = defaults[i-required]
			continue
		}
		missing = append(missing, "'"+params[i]+"'")
	}
	if len(missing) > 0 {
		plural := "argument"
		if len(missing) > 1 {
			plural = "arguments"
		}
		list := strings.Join(missing, ", ")
		if len(missing) > 1 {
			list = strings.Join(missing[:len(missing)-1], ", ") + " and " + missing[len(missing)-1]
		}
		return nil, typeError(fmt.Sprintf("%s() missing %d required positional %s: %s", fn, len(missing), plural, list))
	}
	return out, nil
}

// pyTruth is Python's bool(v) for value-model values.
func pyTruth(v any) bool {
	switch t := v.(type) {
	case nil:
		return false
	case bool:
		return t
	case int64:
		return t != 0
	case pickle.Py2Int:
		return t != 0
	case pickle.Py2Long:
		return t != 0
	case int:
		return t != 0
	case float64:
		return t != 0
	case *big.Int:
		return t.Sign() != 0
	case string:
		return t != ""
	case pickle.Py2String:
		return t != ""
	case []byte:
		return len(t) > 0
	case pickle.Tuple:
		return len(t) > 0
	case *pickle.List:
		return t != nil && len(t.Items) > 0
	case *pickle.Dict:
		return t != nil && t.Len() > 0
	case *pickle.Set:
		return t != nil && t.Len() > 0
	}
	return true
}

// pyFloat converts a Python number (int, float, bool) to float64.
func pyFloat(v any) (float64, bool) {
	switch t := v.(type) {
	case bool:
		if t {
			return 1, true
		}
		return 0, true
	case int64:
		return float64(t), true
	case pickle.Py2Int:
		return float64(t), true
	case pickle.Py2Long:
		return float64(t), true
	case int:
		return float64(t), true
	case float64:
		return t, !math.IsNaN(t)
	case *big.Int:
		f, _ := new(big.Float).SetInt(t).Float64()
		return f, true
	}
	return 0, false
}

// asStr accepts a Python str (or a Python 2 str) and returns it as a Go string.
func asStr(v any) (string, bool) {
	switch s := v.(type) {
	case string:
		return s, true
	case pickle.Py2String:
		return string(s), true
	}
	return "", false
}

// timeoutDeadline converts Python's (block, timeout) pair to a deadline.
func timeoutDeadline(timeout any) (time.Time, error) {
	if timeout == nil {
		return time.Time{}, nil
	}
	f, ok := pyFloat(timeout)
	if !ok {
		if _, isF := timeout.(float64); isF { // NaN
			return time.Time{}, managers.NewPyException("builtins", "ValueError", "'timeout' must be a non-negative number")
		}
		return time.Time{}, managers.NewPyException("builtins", "TypeError", "'<' not supported between instances of '"+pickle.TypeName(timeout)+"' and 'int'")
	}
	if f < 0 {
		return time.Time{}, managers.NewPyException("builtins", "ValueError", "'timeout' must be a non-negative number")
	}
	if f > math.MaxInt64/1e9/2 {
		return time.Time{}, nil // effectively forever
	}
	return time.Now().Add(time.Duration(f * 1e9)), nil
}
