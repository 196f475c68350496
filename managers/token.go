package managers

import (
	"fmt"

	"github.com/mpgo/mpgo/pickle"
)

// modManagers is the module of Token, RebuildProxy, AutoProxy and the proxy classes.
const modManagers = "multiprocessing.managers"

// Token names a shared object: multiprocessing.managers.Token(typeid, address, id). Address is
// the server address as Python spells it: pickle.Tuple{host string, port int64} for TCP, a string
// path for a Unix socket, []byte for a Linux abstract name.
//
// A Token pickles exactly as CPython's does at protocol 2 and above: the class global, an empty
// tuple, NEWOBJ, then BUILD with the state tuple (typeid, address, id).
type Token struct {
	TypeID  string
	Address any
	ID      string
}

// String returns the Python repr: Token(typeid='Queue', address=('127.0.0.1', 50000), id='7f...').
func (t Token) String() string {
	return fmt.Sprintf("Token(typeid=%s, address=%s, id=%s)", pickle.Repr(t.TypeID), pickle.Repr(t.Address), pickle.Repr(t.ID))
}

// MarshalPickle returns the NEWOBJ + BUILD form of the token.
func (t Token) MarshalPickle() (any, error) {
	return &pickle.Object{
		Class: pickle.Global{Module: modManagers, Name: "Token"},
		Kind:  pickle.BuildNewObj,
		Args:  pickle.Tuple{},
		State: pickle.Tuple{t.TypeID, t.Address, t.ID},
	}, nil
}

// UnmarshalPickle fills t from a decoded Token object (or its state tuple).
func (t *Token) UnmarshalPickle(v any) error {
	tok, err := TokenFromValue(v)
	if err != nil {
		return err
	}
	*t = tok
	return nil
}

// TokenFromValue converts a decoded value (a *pickle.Object of class
// multiprocessing.managers.Token, its 3-tuple state, a Token or *Token) into a Token. Python 2
// byte strings are accepted for typeid and id.
func TokenFromValue(v any) (Token, error) {
	var state any
	switch o := v.(type) {
	case Token:
		return o, nil
	case *Token:
		if o == nil {
			return Token{}, fmt.Errorf("managers: nil token")
		}
		return *o, nil
	case *pickle.Object:
		if o.Class.Module != modManagers || o.Class.Name != "Token" {
			return Token{}, fmt.Errorf("managers: not a Token: %s", o.Class)
		}
		state = o.State
		// A slots-only object pickled without __getstate__ has the state (None, {slot: value}).
		if st, ok := state.(pickle.Tuple); ok && len(st) == 2 && st[0] == nil {
			if d, ok := st[1].(*pickle.Dict); ok {
				ty, _ := d.Get("typeid")
				ad, _ := d.Get("address")
				id, _ := d.Get("id")
				state = pickle.Tuple{ty, ad, id}
			}
		}
	case pickle.Tuple:
		state = o
	default:
		return Token{}, fmt.Errorf("managers: not a Token: %s", pickle.TypeName(v))
	}
	st, ok := state.(pickle.Tuple)
	if !ok || len(st) != 3 {
		return Token{}, fmt.Errorf("managers: bad Token state %s", pickle.Repr(state))
	}
	typeid, ok1 := asStr(st[0])
	id, ok2 := asStr(st[2])
	if !ok1 || !ok2 {
		return Token{}, fmt.Errorf("managers: bad Token state %s", pickle.Repr(state))
	}
	return Token{TypeID: typeid, Address: st[1], ID: id}, nil
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

// RebuildProxy is the pickled form of a proxy: a call of multiprocessing.managers.RebuildProxy(
// func, token, serializer, kwds), where Func is the proxy class (e.g.
// multiprocessing.managers.ListProxy) or the function multiprocessing.managers.AutoProxy, and
// Kwargs is {} for fixed proxy classes or {'exposed': (names...)} for AutoProxy.
type RebuildProxy struct {
	Func       pickle.Global
	Token      Token
	Serializer string       // "pickle" when empty
	Kwargs     *pickle.Dict // {} when nil
}

// AutoProxyFunc is the global multiprocessing.managers.AutoProxy.
var AutoProxyFunc = pickle.Global{Module: modManagers, Name: "AutoProxy"}

// MarshalPickle returns the REDUCE form RebuildProxy(func, token, serializer, kwds).
func (p RebuildProxy) MarshalPickle() (any, error) {
	ser := p.Serializer
	if ser == "" {
		ser = "pickle"
	}
	kw := p.Kwargs
	if kw == nil {
		kw = pickle.NewDict()
	}
	tok, _ := p.Token.MarshalPickle()
	return &pickle.Object{
		Class: pickle.Global{Module: modManagers, Name: "RebuildProxy"},
		Kind:  pickle.BuildReduce,
		Args:  pickle.Tuple{p.Func, tok, ser, kw},
	}, nil
}

// UnmarshalPickle fills p from a decoded RebuildProxy call.
func (p *RebuildProxy) UnmarshalPickle(v any) error {
	rp, ok := RebuildProxyFromValue(v)
	if !ok {
		return fmt.Errorf("managers: not a RebuildProxy: %s", pickle.TypeName(v))
	}
	*p = *rp
	return nil
}

// RebuildProxyFromValue recognises a decoded RebuildProxy(func, token, serializer, kwds) call.
func RebuildProxyFromValue(v any) (*RebuildProxy, bool) {
	switch o := v.(type) {
	case *RebuildProxy:
		return o, o != nil
	case RebuildProxy:
		return &o, true
	case *pickle.Object:
		if o.Class.Module != modManagers || o.Class.Name != "RebuildProxy" || o.Kind != pickle.BuildReduce || len(o.Args) != 4 {
			return nil, false
		}
		fn, ok := o.Args[0].(pickle.Global)
		if !ok {
			return nil, false
		}
		tok, err := TokenFromValue(o.Args[1])
		if err != nil {
			return nil, false
		}
		ser, _ := asStr(o.Args[2])
		kw, _ := o.Args[3].(*pickle.Dict)
		return &RebuildProxy{Func: fn, Token: tok, Serializer: ser, Kwargs: kw}, true
	}
	return nil, false
}

// RegisterPickleTypes registers Token and RebuildProxy with a pickle decoder registry, so that
// decoding yields *Token and *RebuildProxy values instead of generic objects.
func RegisterPickleTypes(r *pickle.Registry) error {
	if err := r.Register(modManagers, "Token", &Token{}); err != nil {
		return err
	}
	return r.Register(modManagers, "RebuildProxy", &RebuildProxy{})
}
