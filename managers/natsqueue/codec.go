package natsqueue

import (
	"fmt"

	"github.com/mpgo/mpgo/pickle"
	"github.com/nats-io/nats.go"
)

// This file is the whole item encoding: one JetStream message holds one item as a complete
// pickle. Keep it the only place that knows the encoding.
//
// An item is pickled at protocol 4. An item holding Python 2 byte strings (pickle.Py2String,
// which only a Python 2 putter produces) is pickled at protocol 2 instead, where such strings
// keep their Python 2 str type (protocol 3 and above would turn them into unicode), and its
// message carries the header dialectHeader: py2. Decoding does not need the header (a pickle
// states its protocol); it tells a reader which Python dialect the bytes were made for.

// dialectHeader marks items stored with Python 2 str semantics.
const (
	dialectHeader = "Mpgo-Dialect"
	dialectPy2    = "py2"
)

// maxWalk bounds how many values encodeItem inspects looking for Python 2 strings.
const maxWalk = 1 << 16

// encodeItem returns the message body and header (nil for most items) of item v.
func encodeItem(v any) ([]byte, nats.Header, error) {
	budget := maxWalk
	if !hasPy2Str(v, &budget) {
		data, err := pickle.Marshal(v)
		return data, nil, err
	}
	var buf []byte
	enc := pickle.NewEncoder(nil)
	enc.SetProtocol(2)
	buf, err := enc.AppendEncode(buf, v)
	if err != nil {
		return nil, nil, err
	}
	return buf, nats.Header{dialectHeader: []string{dialectPy2}}, nil
}

// decodeItem returns the item a message holds.
func decodeItem(data []byte, _ nats.Header) (any, error) {
	var v any
	if err := pickle.UnmarshalOwned(data, &v); err != nil {
		return nil, fmt.Errorf("natsqueue: undecodable item: %w", err)
	}
	return v, nil
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
