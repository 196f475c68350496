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
// again gives Python back an equal object. It is always used as *Object;
// Python equality of objects is identity.
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
