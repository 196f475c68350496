package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/mpgo/mpgo/managers"
	"github.com/mpgo/mpgo/pickle"
)

// The --shared flag of serve: NAME=TYPE or NAME=TYPE(ARGS) registers typeid NAME returning one
// object of the SyncManager type TYPE made at start-up with ARGS, as a CPython script does with
// register('NAME', callable=lambda: obj).

// sharedProxyTypes maps each TYPE --shared accepts to the proxy class a Python client registers
// NAME with (multiprocessing.managers; "" is AutoProxy, what SyncManager itself uses).
var sharedProxyTypes = map[string]string{
	"Queue":            "",
	"JoinableQueue":    "",
	"dict":             "DictProxy",
	"list":             "ListProxy",
	"Namespace":        "NamespaceProxy",
	"Value":            "ValueProxy",
	"Array":            "ArrayProxy",
	"Lock":             "AcquirerProxy",
	"RLock":            "AcquirerProxy",
	"Semaphore":        "AcquirerProxy",
	"BoundedSemaphore": "AcquirerProxy",
	"Condition":        "ConditionProxy",
	"Event":            "EventProxy",
	"Barrier":          "BarrierProxy",
}

func sharedTypeNames() string {
	names := make([]string, 0, len(sharedProxyTypes))
	for n := range sharedProxyTypes {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

const sharedUsage = "register a typeid NAME returning one shared object (repeatable): NAME=TYPE or NAME=TYPE(ARGS), " +
	"TYPE a SyncManager type (dict, list, Namespace, Value, Array, Queue, JoinableQueue, Lock, RLock, Semaphore, " +
	"BoundedSemaphore, Condition, Event, Barrier), ARGS its constructor's arguments as JSON values " +
	"(with --store or --nats, Queue and JoinableQueue are durable; the other types stay in memory): " +
	`counts=dict, hits='Value("i", 0)', jobs='Queue(100)', ready='Barrier(3)'`

// sharedSpec is one --shared value.
type sharedSpec struct {
	name, typeid string
	args         pickle.Tuple
	argText      string // ARGS as given, for the snippet
}

// sharedList is the repeatable --shared flag.
type sharedList []sharedSpec

func (s *sharedList) String() string {
	parts := make([]string, len(*s))
	for i, sp := range *s {
		parts[i] = sp.name + "=" + sp.typeid
		if sp.argText != "" {
			parts[i] += "(" + sp.argText + ")"
		}
	}
	return strings.Join(parts, ",")
}

func (s *sharedList) Set(v string) error {
	sp, err := parseShared(v)
	if err != nil {
		return err
	}
	*s = append(*s, sp)
	return nil
}

// parseShared parses NAME=TYPE or NAME=TYPE(ARGS).
func parseShared(v string) (sharedSpec, error) {
	name, rest, ok := strings.Cut(v, "=")
	if !ok {
		return sharedSpec{}, fmt.Errorf("%q: want NAME=TYPE or NAME=TYPE(ARGS)", v)
	}
	name = strings.TrimSpace(name)
	if !pyIdentifier.MatchString(name) {
		return sharedSpec{}, fmt.Errorf("%q: NAME %q is not a Python identifier", v, name)
	}
	rest = strings.TrimSpace(rest)
	sp := sharedSpec{name: name, typeid: rest}
	if i := strings.IndexByte(rest, '('); i >= 0 {
		if !strings.HasSuffix(rest, ")") {
			return sharedSpec{}, fmt.Errorf("%q: ARGS must end with ')'", v)
		}
		sp.typeid = strings.TrimSpace(rest[:i])
		sp.argText = strings.TrimSpace(rest[i+1 : len(rest)-1])
	}
	if _, ok := sharedProxyTypes[sp.typeid]; !ok {
		return sharedSpec{}, fmt.Errorf("%q: unknown TYPE %q (one of %s)", v, sp.typeid, sharedTypeNames())
	}
	if sp.argText != "" {
		a, err := jsonArg("["+sp.argText+"]", false)
		if err != nil {
			return sharedSpec{}, fmt.Errorf("%q: ARGS are JSON values separated by commas (strings in double quotes): %v", v, err)
		}
		sp.args = pickle.Tuple(a.(*pickle.List).Items)
	}
	return sp, nil
}

// registerShared makes each object with the constructor of its TYPE in reg (which holds the
// SyncManager typeids) and registers NAME returning it, with TYPE's exposed methods and
// method_to_typeid (a shared dict's __iter__ still returns an Iterator proxy). taken holds the
// names already used (--queue). With dur (--store, --nats) a Queue or JoinableQueue is durable:
// ARGS are checked by the in-memory constructor, whose maxsize the durable queue takes.
func registerShared(ctx context.Context, reg *managers.Registry, specs sharedList, taken map[string]bool, dur *durable) error {
	for _, sp := range specs {
		if taken[sp.name] {
			return usagef("--shared %s: NAME given twice", sp.name)
		}
		taken[sp.name] = true
		t, ok := reg.Lookup(sp.typeid)
		if !ok || t.New == nil {
			return usagef("--shared %s: no constructor for %s", sp.name, sp.typeid)
		}
		obj, err := t.New(ctx, sp.args, pickle.NewDict())
		if err != nil {
			return usagef("--shared %s=%s(%s): %v", sp.name, sp.typeid, sp.argText, err)
		}
		if q, ok := obj.(*managers.Queue); ok && dur != nil {
			if obj, err = dur.newQueueObject(ctx, sp.name, q.Maxsize()); err != nil {
				return fmt.Errorf("--shared %s=%s(%s): %w", sp.name, sp.typeid, sp.argText, err)
			}
		}
		st := managers.Singleton(obj)
		st.Exposed, st.MethodToTypeID = t.Exposed, t.MethodToTypeID
		if err := reg.Register(sp.name, st); err != nil {
			return usagef("--shared %s: %v", sp.name, err)
		}
	}
	return nil
}

// writeSharedSnippet prints the Python lines that reach the --shared objects.
func writeSharedSnippet(w io.Writer, specs sharedList, pyAddr, keyExpr string) {
	if len(specs) == 0 {
		return
	}
	imports := []string{"BaseManager"}
	seen := map[string]bool{}
	dict := false
	for _, sp := range specs {
		if pt := sharedProxyTypes[sp.typeid]; pt != "" && !seen[pt] {
			seen[pt] = true
			imports = append(imports, pt)
		}
		dict = dict || sp.typeid == "dict"
	}
	if dict {
		imports = append(imports, "IteratorProxy")
	}
	fmt.Fprintf(w, "mpgo: shared objects:\n")
	fmt.Fprintf(w, "    from multiprocessing.managers import %s\n", strings.Join(imports, ", "))
	fmt.Fprintf(w, "    class SharedManager(BaseManager): pass\n")
	for _, sp := range specs {
		if pt := sharedProxyTypes[sp.typeid]; pt != "" {
			fmt.Fprintf(w, "    SharedManager.register('%s', proxytype=%s)  # a shared %s\n", sp.name, pt, sp.typeid)
		} else {
			fmt.Fprintf(w, "    SharedManager.register('%s')  # a shared %s\n", sp.name, sp.typeid)
		}
	}
	if dict { // iter(d) returns an Iterator proxy, as in SyncManager
		fmt.Fprintf(w, "    SharedManager.register('Iterator', proxytype=IteratorProxy, create_method=False)\n")
	}
	fmt.Fprintf(w, "    m = SharedManager(address=%s, authkey=%s); m.connect()\n", pyAddr, keyExpr)
	calls := make([]string, len(specs))
	for i, sp := range specs {
		calls[i] = fmt.Sprintf("%s = m.%s()", sp.name, sp.name)
	}
	fmt.Fprintf(w, "    %s\n", strings.Join(calls, "; "))
}
