package natsqueue

import (
	"context"
	"fmt"

	"github.com/mpgo/mpgo/managers"
	"github.com/mpgo/mpgo/pickle"
)

// This file is the whole item encoding: one JetStream message holds one item as a
// pickle.Pickled in its AppendBinary form (a format byte, the dialect, the opcodes of the one
// value). An item a Python client put is pickled in that client's dialect (protocol 2 with
// Python 2 str for 2.7, 3 for 3.6 and 3.7, 4 for 3.8 and later), and a getter of the same
// dialect receives those bytes copied into its reply, never decoded by this server; a getter of
// another dialect gets the value re-encoded, and a Go caller the decoded value.
//
// An item put through the Go API is pickled at protocol 4, or at protocol 2 with Python 2 str
// when it holds pickle.Py2String values (protocol 3 and later would turn them into unicode).

// maxWalk bounds how many values encodeItem inspects looking for Python 2 strings.
const maxWalk = 1 << 16

// encodeItem returns the message body of item v, put by the caller of ctx.
func encodeItem(ctx context.Context, v any) ([]byte, error) {
	if data, ok := managers.AppendCallerPickled(ctx, nil, v); ok {
		return data, nil
	}
	budget := maxWalk
	var p pickle.Pickled
	var err error
	if hasPy2Str(v, &budget) {
		p, err = pickle.NewPickled(v, 2, true)
	} else {
		p, err = pickle.NewPickled(v, 4, false)
	}
	if err != nil {
		return nil, err
	}
	return p.AppendBinary(nil)
}

// decodeItem returns the item a message holds. The bytes are checked (and copied).
func decodeItem(data []byte) (pickle.Pickled, error) {
	p, err := pickle.ParsePickled(data)
	if err != nil {
		return pickle.Pickled{}, fmt.Errorf("natsqueue: undecodable item: %w", err)
	}
	return p, nil
}

// hasPy2Str reports whether v holds a pickle.Py2String, looking at no more than *budget values
// (past it, it answers true: protocol 2 is correct for every item, only larger).
func hasPy2Str(v any, budget *int) bool {
	*budget--
	if *budget < 0 {
		return true
	}
	switch x := v.(type) {
	case nil, bool, int64, float64, string, []byte, int, pickle.Py2Int, pickle.Py2Long:
		return false
	case pickle.Py2String:
		return true
	case pickle.Tuple:
		for _, e := range x {
			if hasPy2Str(e, budget) {
				return true
			}
		}
		return false
	case []any:
		for _, e := range x {
			if hasPy2Str(e, budget) {
				return true
			}
		}
		return false
	case *pickle.List:
		return x != nil && hasPy2Str(x.Items, budget)
	case *pickle.Dict:
		found := false
		if x != nil {
			x.Range(func(k, val any) bool {
				found = hasPy2Str(k, budget) || hasPy2Str(val, budget)
				return !found
			})
		}
		return found
	case *pickle.Set:
		return x != nil && hasPy2Str(x.Items(), budget)
	case pickle.FrozenSet:
		return hasPy2Str(x.Items(), budget)
	case *pickle.Object:
		if x == nil {
			return false
		}
		if hasPy2Str(x.Args, budget) || hasPy2Str(x.State, budget) || hasPy2Str(x.ListItems, budget) || hasPy2Str(x.Callable, budget) {
			return true
		}
		if x.Kwargs != nil && hasPy2Str(x.Kwargs, budget) {
			return true
		}
		for _, it := range x.DictItems {
			if hasPy2Str(it.Key, budget) || hasPy2Str(it.Value, budget) {
				return true
			}
		}
		return false
	}
	// Other types (Go values, big numbers, Globals, pickle's standard types) hold no Python 2
	// str a Python client could have put.
	return false
}
