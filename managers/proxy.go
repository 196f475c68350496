package managers

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync/atomic"

	"github.com/mpgo/mpgo/pickle"
)

// Proxy is a reference to an object held by a manager server, like a CPython BaseProxy: it names
// the object by its [Token] and holds one reference on the server from its creation until
// [Proxy.Close].
//
// A Proxy is safe for concurrent use by multiple goroutines: each call in flight uses its own
// method-call connection of the [Client]'s pool.
//
// A Proxy passed as an argument (in a method's args, or inside a list or dict argument) is sent as
// the server expects a proxy: RebuildProxy(proxy class, token, 'pickle', kwds), so a Python 3.9+
// server stores its own object (2.7: the object's value) rather than a copy.
type Proxy struct {
	client  *Client
	token   Token
	exposed []string
	class   pickle.Global // the Python proxy class or AutoProxy; zero: by typeid
	closed  atomic.Bool
}

// Token returns the token naming the proxy's object: its typeid, the server address (the
// client's notion of it, see [Client.Address]) and its ident.
func (p *Proxy) Token() Token { return p.token }

// TypeID returns the typeid of the proxy's object.
func (p *Proxy) TypeID() string { return p.token.TypeID }

// Exposed returns the method names the server allows on the object, as create or the #PROXY
// reply listed them (nil for a proxy received inside a value without an exposed list).
func (p *Proxy) Exposed() []string { return append([]string(nil), p.exposed...) }

// Client returns the client the proxy calls through.
func (p *Proxy) Client() *Client { return p.client }

// String describes the proxy like CPython's repr of a proxy.
func (p *Proxy) String() string {
	return fmt.Sprintf("<%s object, typeid %q, ident %s>", p.pyClass().Name, p.token.TypeID, p.token.ID)
}

// Call calls method on the proxy's object with Python positional args and keyword kwargs (either
// may be nil) and returns the result in the pickle value model. A '#PROXY' reply (a method listed
// in the object's method_to_typeid) returns a new *Proxy, with the token's address replaced by
// the client's as CPython does; proxies nested in a returned value (RebuildProxy) also become
// *Proxy values, each holding its own reference. Close them when done.
//
// Errors raised by the method are [*RemoteError]s with the Python exception (see
// [IsPythonException]). Cancelling ctx while a call is in flight closes its connection; the
// server still completes the call (a cancelled blocking Queue.get may consume an item nobody
// receives: prefer a timeout).
func (p *Proxy) Call(ctx context.Context, method string, args pickle.Tuple, kwargs *pickle.Dict) (any, error) {
	if p.closed.Load() {
		return nil, ErrProxyClosed
	}
	rep, _, err := p.client.callMethod(ctx, nil, p.token.ID, method, args, kwargs)
	if err != nil {
		return nil, err
	}
	return p.result(ctx, rep)
}

// result turns a #RETURN or #PROXY reply into the call's result.
func (p *Proxy) result(ctx context.Context, rep reply) (any, error) {
	if rep.kind == KindProxy {
		t, ok := rep.payload.(pickle.Tuple)
		if !ok || len(t) != 2 {
			return nil, fmt.Errorf("managers: #PROXY payload is %s, not (exposed, token)", pickle.TypeName(rep.payload))
		}
		exposed, err := stringList(t[0])
		if err != nil {
			return nil, err
		}
		tok, err := TokenFromValue(t[1])
		if err != nil {
			return nil, err
		}
		tok.Address = p.token.Address
		return p.client.adopt(ctx, tok, exposed)
	}
	if !rep.hasProxy {
		return rep.payload, nil
	}
	return p.client.rebuildProxies(ctx, rep.payload)
}

// Close releases the proxy's reference (decref), once; later calls return nil. Calls on a closed
// proxy return [ErrProxyClosed].
func (p *Proxy) Close() error { return p.release(context.Background()) }

func (p *Proxy) release(ctx context.Context) error {
	if !p.closed.CompareAndSwap(false, true) {
		return nil
	}
	c := p.client
	c.mu.Lock()
	delete(c.proxies, p)
	c.mu.Unlock()
	_, err := c.callPublicClosed(ctx, "decref", pickle.Tuple{p.token.ID})
	return err
}

// pyClass is the proxy class named when the proxy is pickled.
func (p *Proxy) pyClass() pickle.Global {
	if p.class.Name != "" {
		return p.class
	}
	return proxyClassFor(p.client, p.token.TypeID)
}

// syncManagerProxyTypes are the proxy classes of SyncManager's registry (PROTOCOL.md 5.1).
var syncManagerProxyTypes = map[string]string{
	"Queue": "AutoProxy", "JoinableQueue": "AutoProxy", "AsyncResult": "AutoProxy",
	"Event": "EventProxy", "Lock": "AcquirerProxy", "RLock": "AcquirerProxy",
	"Semaphore": "AcquirerProxy", "BoundedSemaphore": "AcquirerProxy", "Condition": "ConditionProxy",
	"Barrier": "BarrierProxy", "Pool": "PoolProxy", "list": "ListProxy", "dict": "DictProxy",
	"Value": "ValueProxy", "Array": "ArrayProxy", "Namespace": "NamespaceProxy", "Iterator": "IteratorProxy",
}

func proxyClassFor(c *Client, typeid string) pickle.Global {
	name, ok := c.cfg.ProxyTypes[typeid]
	if !ok {
		name, ok = syncManagerProxyTypes[typeid]
	}
	if !ok {
		name = "AutoProxy"
	}
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		return pickle.Global{Module: name[:i], Name: name[i+1:]}
	}
	return pickle.Global{Module: modManagers, Name: name}
}

// MarshalPickle encodes the proxy as CPython pickles one: RebuildProxy(class, token, 'pickle',
// kwds), kwds being {'exposed': names} for an AutoProxy and {} otherwise.
func (p *Proxy) MarshalPickle() (any, error) {
	class := p.pyClass()
	kwds := pickle.NewDict()
	if class.Module == modManagers && class.Name == "AutoProxy" {
		ex := make(pickle.Tuple, len(p.exposed))
		for i, n := range p.exposed {
			ex[i] = n
		}
		if err := kwds.Set("exposed", ex); err != nil {
			return nil, err
		}
	}
	return RebuildProxy{Func: class, Token: p.token, Serializer: "pickle", Kwargs: kwds}.MarshalPickle()
}

// rebuildProxies replaces the pickled proxies inside v by *Proxy values, each increfed, as
// CPython's RebuildProxy does when a client unpickles a result.
func (c *Client) rebuildProxies(ctx context.Context, v any) (any, error) {
	w := rebuildWalker{c: c, ctx: ctx, seen: map[any]bool{}}
	out, _ := w.walk(v, 0)
	if w.err != nil {
		for _, p := range w.made {
			p.Close()
		}
		return nil, w.err
	}
	return out, nil
}

type rebuildWalker struct {
	c    *Client
	ctx  context.Context
	seen map[any]bool
	made []*Proxy
	err  error
}

const maxRebuildDepth = 200

// walk returns v with pickled proxies replaced, and whether anything was replaced.
func (w *rebuildWalker) walk(v any, depth int) (any, bool) {
	if w.err != nil || depth > maxRebuildDepth {
		return v, false
	}
	switch t := v.(type) {
	case *pickle.Object, *RebuildProxy:
		rp, ok := RebuildProxyFromValue(t)
		if !ok {
			return v, false
		}
		var exposed []string
		if rp.Kwargs != nil {
			if ex, ok := rp.Kwargs.Get("exposed"); ok {
				exposed, _ = stringList(ex)
			}
		}
		p, err := w.c.newProxy(w.ctx, rp.Token, exposed, true)
		if err != nil {
			w.err = err
			return v, false
		}
		p.class = rp.Func
		w.made = append(w.made, p)
		return p, true
	case pickle.Tuple:
		var out pickle.Tuple
		for i, it := range t {
			n, changed := w.walk(it, depth+1)
			if changed && out == nil {
				out = append(pickle.Tuple{}, t...)
			}
			if out != nil {
				out[i] = n
			}
		}
		if out != nil {
			return out, true
		}
	case *pickle.List:
		if w.seen[t] {
			return v, false
		}
		w.seen[t] = true
		for i, it := range t.Items {
			t.Items[i], _ = w.walk(it, depth+1)
		}
	case *pickle.Dict:
		if w.seen[t] {
			return v, false
		}
		w.seen[t] = true
		for _, it := range t.Items() {
			if n, changed := w.walk(it.Value, depth+1); changed {
				_ = t.Set(it.Key, n)
			}
		}
	}
	return v, false
}

// Decode stores a result of the pickle value model (as [Proxy.Call] returns it) into out, a
// non-nil pointer, with pickle's typed decoding rules (struct tags, Go kinds). A result that is
// already assignable to *out is stored as is.
func Decode(v any, out any) error {
	rv := reflect.ValueOf(out)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("managers: Decode needs a non-nil pointer, got %T", out)
	}
	ev := rv.Elem()
	if v == nil {
		ev.SetZero()
		return nil
	}
	if vt := reflect.TypeOf(v); vt.AssignableTo(ev.Type()) {
		ev.Set(reflect.ValueOf(v))
		return nil
	}
	if s, ok := v.(pickle.Py2String); ok && ev.Kind() == reflect.String {
		ev.SetString(string(s))
		return nil
	}
	if err := pickle.Convert(v, out); err != nil {
		return fmt.Errorf("managers: decode result: %w", err)
	}
	return nil
}

// CallInto calls method on p with positional args and decodes the result into a T (see
// [Decode]).
func CallInto[T any](ctx context.Context, p *Proxy, method string, args ...any) (T, error) {
	var out T
	v, err := p.Call(ctx, method, pickle.Tuple(args), nil)
	if err != nil {
		return out, err
	}
	err = Decode(v, &out)
	return out, err
}
