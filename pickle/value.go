package pickle

import "fmt"

// Tuple is a Python tuple. It is a value type: two tuples with equal items are
// equal, and a Tuple can be a dict key or a set member when its items are
// hashable.
type Tuple []any

// List is a Python list. It is always used as *List so that shared references
// and cycles keep their identity through a decode and re-encode.
type List struct {
	Items []any
}

// NewList returns a new *List holding items (the slice is used as is).
func NewList(items ...any) *List {
	return &List{Items: items}
}

// Append appends items to the list.
func (l *List) Append(items ...any) { l.Items = append(l.Items, items...) }

// Len returns the number of items.
func (l *List) Len() int { return len(l.Items) }

// ByteArray is a Python bytearray.
type ByteArray []byte

// Py2String is a Python 2 str (a byte string), as read from the STRING,
// BINSTRING and SHORT_BINSTRING opcodes. It holds the raw bytes. It compares
// equal to a string with the same bytes, and the encoder writes it back as a
// Python 2 str at protocols 0 to 2 (and as a str at protocol 3 and above).
type Py2String string

// Py2Int is a Python 2 int outside the 32-bit range: a plain int of 64-bit
// Python 2 (2**40, say), which Python 2 pickles with the INT opcode's text
// form at every protocol and Python 3 never does (Python 3 writes LONG1).
// The decoder makes one of such an INT, so that the value goes back to
// Python 2 as an int, not a long; Python 3 reads it as an int. It is a
// number like int64 for Equal, Hash, Compare and Unmarshal.
type Py2Int int64

// Py2Long is a Python 2 long inside the 32-bit range (5L), which Python 2
// pickles with LONG1 at protocol 2 and above and Python 3 never does (it
// writes such ints with BININT). The decoder makes one of such a LONG1, so
// that the value goes back to Python 2 as a long; Python 3 reads it as an
// int. (The LONG text form of protocols 0 and 1 gives an int64: Python 3.6
// writes every int so.) Longs outside the 32-bit range are
// int64 or *big.Int, which the encoder writes as longs anyway. It is a
// number like int64 for Equal, Hash, Compare and Unmarshal.
type Py2Long int64

// Global is a Python global (a module attribute, typically a class or a
// function) used as a value, such as the type float. Module is always the
// Python 3 module name.
type Global struct {
	Module, Name string
}

// String returns "module.name".
func (g Global) String() string { return g.Module + "." + g.Name }

// BuildKind tells how an Object was created by the pickle.
type BuildKind int

// The ways an Object can be created.
const (
	BuildReduce   BuildKind = iota // callable(*args): REDUCE
	BuildNewObj                    // cls.__new__(cls, *args): NEWOBJ
	BuildNewObjEx                  // cls.__new__(cls, *args, **kwargs): NEWOBJ_EX
	BuildInst                      // INST / OBJ (protocol 0 and 1 instances)
	// BuildReconstructor is copyreg._reconstructor(Class, Args[0], Args[1]),
	// how protocols 0 and 1 create instances of new-style classes: Args
	// holds the base class (usually builtins.object) and its state.
	BuildReconstructor
)

func (k BuildKind) String() string {
	switch k {
	case BuildReduce:
		return "BuildReduce"
	case BuildNewObj:
		return "BuildNewObj"
	case BuildNewObjEx:
		return "BuildNewObjEx"
	case BuildInst:
		return "BuildInst"
	case BuildReconstructor:
		return "BuildReconstructor"
	}
	return fmt.Sprintf("BuildKind(%d)", int(k))
}

// Object is a Python object the value model has no Go type for: class
// instances, exceptions, slices, datetime values, multiprocessing Tokens and
// so on. It records how the pickle built the object, so that encoding it
// again gives Python back an equal object. It is always used as *Object.
// Equal, Hash and Compare treat objects by value (the same class built from
// equal arguments, state and items), a namedtuple as the tuple of its
// fields: see "Python semantics" in the package documentation.
type Object struct {
	Class     Global     // the class or callable
	Kind      BuildKind  // how it was created
	Args      Tuple      // positional arguments of the call / __new__
	Kwargs    *Dict      // NEWOBJ_EX keyword arguments, else nil
	State     any        // the BUILD argument; nil when there was no BUILD
	ListItems []any      // items appended with APPEND/APPENDS
	DictItems []DictItem // items set with SETITEM/SETITEMS

	// Callable is the callable of a REDUCE when it is not a global (for
	// example a functools.partial object, as Python 3 pickles
	// __getnewargs_ex__ at protocols 2 and 3); Class is then empty.
	Callable any
}

// NewObject returns an *Object built by calling class with args (REDUCE).
func NewObject(class Global, args ...any) *Object {
	return &Object{Class: class, Kind: BuildReduce, Args: Tuple(args)}
}
