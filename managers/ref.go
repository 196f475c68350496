package managers

import (
	"runtime"

	"github.com/mpgo/mpgo/pickle"
)

// Ref is a live reference to one of a server's objects: what a proxy passed as an argument
// becomes (RebuildProxy(...) whose token names one of the server's idents, whatever address the
// token carries). An object that stores a *Ref keeps the referent alive while the Ref is
// reachable, as CPython keeps proxies passed to its own server in id_to_local_proxy_obj.
//
// When a *Ref is part of a reply it goes back to a Python 3 client as the same proxy
// (RebuildProxy with the address the client used to reach the server), and to a Python 2
// client as the referent's value ([ValueGetter]), as CPython 2.7 does.
//
// A Ref is immutable and safe for concurrent use.
type Ref struct {
	e     *entry
	proxy RebuildProxy // as received
}

// Object returns the referenced object.
func (r *Ref) Object() Object { return r.e.obj }

// Ident returns the object's ident.
func (r *Ref) Ident() string { return r.e.ident }

// TypeID returns the typeid named by the proxy's token.
func (r *Ref) TypeID() string { return r.proxy.Token.TypeID }

// Proxy returns the proxy as the client sent it.
func (r *Ref) Proxy() RebuildProxy { return r.proxy }

// GetValue returns the referent's value ([ValueGetter]); this is what a Python 2 client receives.
func (r *Ref) GetValue() (any, error) {
	if g, ok := r.e.obj.(ValueGetter); ok {
		return g.GetValue()
	}
	return nil, NewPyException("builtins", "TypeError", "cannot pickle '"+goTypeName(r.e.obj)+"' object")
}

// MarshalPickle encodes the Ref as the proxy it was received as (with the token address it
// carried). The server rewrites the address per connection before sending replies.
func (r *Ref) MarshalPickle() (any, error) { return r.proxy.MarshalPickle() }

// PyRepr returns the Python repr of the proxy: <AutoProxy[Queue] object, typeid 'Queue' at 0x...>.
func (r *Ref) PyRepr() string {
	return "<" + r.proxy.Func.Name + " object, typeid " + pickle.Repr(r.proxy.Token.TypeID) + " at 0x" + r.e.ident + ">"
}

// newRef makes a live reference to e and marks e as internally held until the Ref is collected.
func (t *table) newRef(e *entry, rp RebuildProxy) *Ref {
	t.mu.Lock()
	e.internal++
	t.mu.Unlock()
	r := &Ref{e: e, proxy: rp}
	runtime.AddCleanup(r, func(e *entry) { t.releaseInternal(e) }, e)
	return r
}
