package managers

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/mpgo/mpgo/pickle"
)

// publicFuncs are the functions a one-shot connection may call (CPython's Server.public).
var publicFuncs = map[string][]string{
	"shutdown":          nil,
	"create":            nil, // (typeid, /, *args, **kwds): checked by hand
	"accept_connection": {"name"},
	"get_methods":       {"token"},
	"debug_info":        nil,
	"number_of_objects": nil,
	"dummy":             nil,
	"incref":            {"ident"},
	"decref":            {"ident"},
}

// checkArity binds req's arguments to params as Python would for func(self, c, *params) and
// returns the positional values in req.Args order (keywords moved into place). On a mismatch it
// returns CPython's TypeError traceback.
func checkArity(fn string, params []string, req Request) (Reply, bool) {
	where := "_handle_request"
	code := "result = func(c, *args, **kwds)"
	given := len(req.Args)
	if given > len(params) {
		return tracebackReply(where, code, NewPyException("builtins", "TypeError",
			fmt.Sprintf("Server.%s() takes %d positional arguments but %d were given", fn, len(params)+2, given+2))), false
	}
	if req.Kwargs != nil && req.Kwargs.Len() > 0 {
		var bad string
		req.Kwargs.Range(func(k, _ any) bool {
			ks, _ := asStr(k)
			found := false
			for i, p := range params {
				if p == ks {
					found = true
					if i < given {
						bad = fmt.Sprintf("Server.%s() got multiple values for argument '%s'", fn, ks)
						return false
					}
				}
			}
			if !found {
				bad = fmt.Sprintf("Server.%s() got an unexpected keyword argument '%s'", fn, ks)
				return false
			}
			return true
		})
		if bad != "" {
			return tracebackReply(where, code, NewPyException("builtins", "TypeError", bad)), false
		}
	}
	var missing []string
	for i := given; i < len(params); i++ {
		if req.Kwargs == nil {
			missing = append(missing, params[i])
			continue
		}
		if _, ok := req.Kwargs.Get(params[i]); !ok {
			missing = append(missing, params[i])
		}
	}
	if len(missing) > 0 {
		quoted := make([]string, len(missing))
		for i, m := range missing {
			quoted[i] = "'" + m + "'"
		}
		plural := "argument"
		if len(missing) > 1 {
			plural = "arguments"
		}
		return tracebackReply(where, code, NewPyException("builtins", "TypeError",
			fmt.Sprintf("Server.%s() missing %d required positional %s: %s", fn, len(missing), plural, strings.Join(quoted, " and ")))), false
	}
	return Reply{}, true
}

// boundArgs returns the arguments of a checked public call in parameter order.
func boundArgs(params []string, req Request) []any {
	out := make([]any, len(params))
	for i, p := range params {
		if i < len(req.Args) {
			out[i] = req.Args[i]
		} else {
			out[i], _ = req.Kwargs.Get(p)
		}
	}
	return out
}

// servePublic runs one public function on a one-shot connection, replies, and returns (the
// caller closes the connection).
func (c *serverConn) servePublic(req Request) {
	s := c.srv
	params, ok := publicFuncs[req.Name]
	if !ok {
		c.send(tracebackReply("_handle_request", "assert funcname in self.public, '%r unrecognized' % funcname",
			NewPyException("builtins", "AssertionError", pickle.Repr(req.Name)+" unrecognized")))
		return
	}
	if req.Name != "create" {
		if rep, ok := checkArity(req.Name, params, req); !ok {
			c.send(rep)
			return
		}
	}
	args := boundArgs(params, req)
	log := c.log.WithField("func", req.Name)
	where, code := req.Name, "result = func(c, *args, **kwds)"
	var rep Reply
	switch req.Name {
	case "dummy":
		rep = Reply{Kind: KindReturn}
	case "debug_info":
		rep = Reply{Kind: KindReturn, Value: s.tab.debugInfo()}
	case "number_of_objects":
		rep = Reply{Kind: KindReturn, Value: int64(s.tab.numberOfObjects())}
	case "incref", "decref":
		ident, ok := asStr(args[0])
		var err error
		switch {
		case !ok:
			err = keyError(args[0])
		case req.Name == "incref":
			err = s.tab.incref(ident, holder{u: &c.uses})
		default:
			err = s.tab.decref(ident, holder{u: &c.uses})
		}
		if err != nil {
			code = "self.id_to_refcount[ident] += 1"
			if req.Name == "decref" {
				code = "if self.id_to_refcount[ident] <= 0:"
			}
			rep = errorReply(err, false, req.Name, code)
		} else {
			rep = Reply{Kind: KindReturn}
			log.WithField("ident", ident).Debug("managers: " + req.Name)
		}
	case "get_methods":
		tok, err := TokenFromValue(args[0])
		var e *entry
		if err == nil {
			e = s.tab.lookup(tok.ID, &c.uses)
		}
		if e == nil {
			var k any = tok.ID
			if err != nil {
				rep = tracebackReply(where, "return tuple(self.id_to_obj[token.id][1])",
					NewPyException("builtins", "AttributeError", fmt.Sprintf("'%s' object has no attribute 'id'", pickle.TypeName(args[0]))))
				break
			}
			rep = tracebackReply(where, "return tuple(self.id_to_obj[token.id][1])", keyError(k))
			break
		}
		s.tab.mu.Lock()
		names := make([]string, 0, len(e.exposedSet))
		for n := range e.exposedSet {
			names = append(names, n)
		}
		s.tab.mu.Unlock()
		sort.Strings(names)
		rep = Reply{Kind: KindReturn, Value: stringsTuple(names)}
	case "create":
		rep = c.publicCreate(req)
	case "shutdown":
		log.Info("managers: shutdown requested by a client")
		if !c.dialect.python2 {
			c.send(Reply{Kind: KindReturn}) // CPython 3 sends ('#RETURN', None) twice
		}
		c.send(Reply{Kind: KindReturn})
		s.stop(true)
		return
	}
	c.send(rep)
}

// publicCreate is the 'create' public function: (typeid, *args, **kwds) -> (ident, exposed).
func (c *serverConn) publicCreate(req Request) (rep Reply) {
	if len(req.Args) == 0 {
		return tracebackReply("_handle_request", "result = func(c, *args, **kwds)",
			NewPyException("builtins", "TypeError", "Server.create() missing 1 required positional argument: 'typeid'"))
	}
	typeid, ok := asStr(req.Args[0])
	if !ok {
		return tracebackReply("create", "callable, exposed, method_to_typeid, proxytype = self.registry[typeid]", keyError(req.Args[0]))
	}
	args, kwargs := c.srv.resolveRefs(req.Args[1:], req.Kwargs, &c.uses)
	defer func() {
		if p := recover(); p != nil {
			c.log.WithFields(map[string]any{"typeid": typeid, "err": fmt.Sprint(p)}).Error("managers: panic in create")
			rep = panicReply("create", "obj = callable(*args, **kwds)", p)
		}
	}()
	e, err := c.srv.create(c.callCtx, typeid, args, kwargs, holder{u: &c.uses})
	if err != nil {
		return errorReply(err, false, "create", "obj = callable(*args, **kwds)")
	}
	c.log.WithFields(map[string]any{"typeid": typeid, "ident": e.ident}).Debug("managers: created")
	return Reply{Kind: KindReturn, Value: pickle.Tuple{e.ident, stringsTuple(e.exposed)}}
}

// create makes (or re-registers) an object of typeid, as CPython's Server.create: refcount +1,
// on behalf of by.
func (s *Server) create(ctx context.Context, typeid string, args pickle.Tuple, kwargs *pickle.Dict, by holder) (created, error) {
	ti := s.registry().lookup(typeid)
	if ti == nil {
		return created{}, keyError(typeid)
	}
	if kwargs == nil {
		kwargs = pickle.NewDict()
	}
	var obj Object
	if ti.New == nil {
		if kwargs.Len() > 0 || len(args) != 1 {
			return created{}, NewPyException("builtins", "ValueError", "Without callable, must have one non-keyword argument")
		}
		switch a := args[0].(type) {
		case *Ref:
			obj = a.Object()
		case Object:
			obj = a
		default:
			// A plain Go value returned by a method_to_typeid method: expose its methods.
			if r, err := Reflect(a); err == nil {
				obj = r
				break
			}
			return created{}, NewPyException("builtins", "TypeError", fmt.Sprintf("typeid %s registered without a constructor needs a shared object, not '%s'", pickle.Repr(typeid), pickle.TypeName(args[0])))
		}
	} else {
		var err error
		obj, err = ti.New(ctx, args, kwargs)
		if err != nil {
			return created{}, err
		}
		if obj == nil {
			return created{}, NewPyException("builtins", "TypeError", fmt.Sprintf("constructor of typeid %s returned no object", pickle.Repr(typeid)))
		}
	}
	var exposed []string
	if ti.Exposed != nil {
		exposed = append(exposed, ti.Exposed...)
	} else if ex, ok := obj.(Exposer); ok {
		exposed = append(exposed, ex.ExposedMethods()...)
	}
	if len(ti.MethodToTypeID) > 0 {
		keys := make([]string, 0, len(ti.MethodToTypeID))
		for k := range ti.MethodToTypeID {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		exposed = append(exposed, keys...)
	}
	if exposed == nil {
		exposed = []string{}
	}
	return s.tab.register(obj, typeid, exposed, ti.MethodToTypeID, ti.held, by, s.stats), nil
}

// Create creates an object of typeid from Go, as a client's 'create' would (refcount 1), and
// returns its ident and exposed names. Release it with Decref.
func (s *Server) Create(ctx context.Context, typeid string, args pickle.Tuple, kwargs *pickle.Dict) (ident string, exposed []string, err error) {
	s.init()
	e, err := s.create(ctx, typeid, args, kwargs, goAPI)
	if err != nil {
		return "", nil, err
	}
	return e.ident, append([]string(nil), e.exposed...), nil
}

// Incref adds a reference to the object ident (the 'incref' public function).
func (s *Server) Incref(ident string) error { s.init(); return s.tab.incref(ident, goAPI) }

// Decref drops a reference to the object ident (the 'decref' public function); at 0 the
// object is forgotten.
func (s *Server) Decref(ident string) error { s.init(); return s.tab.decref(ident, goAPI) }

// NumberOfObjects returns the number of objects with a reference count (the
// 'number_of_objects' public function).
func (s *Server) NumberOfObjects() int { s.init(); return s.tab.numberOfObjects() }

// DebugInfo returns the 'debug_info' text: each object's ident, refcount and str().
func (s *Server) DebugInfo() string { s.init(); return s.tab.debugInfo() }

// Refcounts returns the reference count of every tracked object by ident.
func (s *Server) Refcounts() map[string]int { s.init(); return s.tab.snapshot() }

// Lookup returns the object ident (tracked or held by a [*Ref]).
func (s *Server) Lookup(ident string) (Object, bool) {
	s.init()
	e := s.tab.lookup(ident, nil)
	if e == nil {
		return nil, false
	}
	return e.obj, true
}
