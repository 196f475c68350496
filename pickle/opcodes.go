package pickle

// Code generated from CPython 3.13's pickletools.opcodes; keep in sync by hand.

// argKind is the kind of inline argument that follows an opcode, named as
// pickletools names its ArgumentDescriptors.
type argKind int

// Argument kinds (pickletools names).
const (
	argBytearray8 argKind = iota
	argBytes1
	argBytes4
	argBytes8
	argDecimalnlLong
	argDecimalnlShort
	argFloat8
	argFloatnl
	argInt4
	argLong1
	argLong4
	argNone
	argString1
	argString4
	argStringnl
	argStringnlNoescape
	argStringnlNoescapePair
	argUint1
	argUint2
	argUint4
	argUint8
	argUnicodestring1
	argUnicodestring4
	argUnicodestring8
	argUnicodestringnl
)

// opInfo describes one opcode.
type opInfo struct {
	Name  string  // pickletools name, e.g. "SHORT_BINUNICODE"
	Code  byte    // the opcode byte
	Arg   argKind // inline argument
	Proto int     // protocol that introduced it
	Doc   string  // one-line description
}

// Opcode bytes.
const (
	opInt             byte = 0x49 // 'I'
	opBinint          byte = 0x4a // 'J'
	opBinint1         byte = 0x4b // 'K'
	opBinint2         byte = 0x4d // 'M'
	opLong            byte = 0x4c // 'L'
	opLong1           byte = 0x8a // '\x8a'
	opLong4           byte = 0x8b // '\x8b'
	opString          byte = 0x53 // 'S'
	opBinstring       byte = 0x54 // 'T'
	opShortBinstring  byte = 0x55 // 'U'
	opBinbytes        byte = 0x42 // 'B'
	opShortBinbytes   byte = 0x43 // 'C'
	opBinbytes8       byte = 0x8e // '\x8e'
	opBytearray8      byte = 0x96 // '\x96'
	opNextBuffer      byte = 0x97 // '\x97'
	opReadonlyBuffer  byte = 0x98 // '\x98'
	opNone            byte = 0x4e // 'N'
	opNewtrue         byte = 0x88 // '\x88'
	opNewfalse        byte = 0x89 // '\x89'
	opUnicode         byte = 0x56 // 'V'
	opShortBinunicode byte = 0x8c // '\x8c'
	opBinunicode      byte = 0x58 // 'X'
	opBinunicode8     byte = 0x8d // '\x8d'
	opFloat           byte = 0x46 // 'F'
	opBinfloat        byte = 0x47 // 'G'
	opEmptyList       byte = 0x5d // ']'
	opAppend          byte = 0x61 // 'a'
	opAppends         byte = 0x65 // 'e'
	opList            byte = 0x6c // 'l'
	opEmptyTuple      byte = 0x29 // ')'
	opTuple           byte = 0x74 // 't'
	opTuple1          byte = 0x85 // '\x85'
	opTuple2          byte = 0x86 // '\x86'
	opTuple3          byte = 0x87 // '\x87'
	opEmptyDict       byte = 0x7d // '}'
	opDict            byte = 0x64 // 'd'
	opSetitem         byte = 0x73 // 's'
	opSetitems        byte = 0x75 // 'u'
	opEmptySet        byte = 0x8f // '\x8f'
	opAdditems        byte = 0x90 // '\x90'
	opFrozenset       byte = 0x91 // '\x91'
	opPop             byte = 0x30 // '0'
	opDup             byte = 0x32 // '2'
	opMark            byte = 0x28 // '('
	opPopMark         byte = 0x31 // '1'
	opGet             byte = 0x67 // 'g'
	opBinget          byte = 0x68 // 'h'
	opLongBinget      byte = 0x6a // 'j'
	opPut             byte = 0x70 // 'p'
	opBinput          byte = 0x71 // 'q'
	opLongBinput      byte = 0x72 // 'r'
	opMemoize         byte = 0x94 // '\x94'
	opExt1            byte = 0x82 // '\x82'
	opExt2            byte = 0x83 // '\x83'
	opExt4            byte = 0x84 // '\x84'
	opGlobal          byte = 0x63 // 'c'
	opStackGlobal     byte = 0x93 // '\x93'
	opReduce          byte = 0x52 // 'R'
	opBuild           byte = 0x62 // 'b'
	opInst            byte = 0x69 // 'i'
	opObj             byte = 0x6f // 'o'
	opNewobj          byte = 0x81 // '\x81'
	opNewobjEx        byte = 0x92 // '\x92'
	opProto           byte = 0x80 // '\x80'
	opStop            byte = 0x2e // '.'
	opFrame           byte = 0x95 // '\x95'
	opPersid          byte = 0x50 // 'P'
	opBinpersid       byte = 0x51 // 'Q'
)

// opcodes maps an opcode byte to its description (nil: not an opcode).
var opcodes = [256]*opInfo{
	0x49: {Name: "INT", Code: 0x49, Arg: argDecimalnlShort, Proto: 0, Doc: "Push an integer or bool."},
	0x4a: {Name: "BININT", Code: 0x4a, Arg: argInt4, Proto: 1, Doc: "Push a four-byte signed integer."},
	0x4b: {Name: "BININT1", Code: 0x4b, Arg: argUint1, Proto: 1, Doc: "Push a one-byte unsigned integer."},
	0x4d: {Name: "BININT2", Code: 0x4d, Arg: argUint2, Proto: 1, Doc: "Push a two-byte unsigned integer."},
	0x4c: {Name: "LONG", Code: 0x4c, Arg: argDecimalnlLong, Proto: 0, Doc: "Push a long integer."},
	0x8a: {Name: "LONG1", Code: 0x8a, Arg: argLong1, Proto: 2, Doc: "Long integer using one-byte length."},
	0x8b: {Name: "LONG4", Code: 0x8b, Arg: argLong4, Proto: 2, Doc: "Long integer using four-byte length."},
	0x53: {Name: "STRING", Code: 0x53, Arg: argStringnl, Proto: 0, Doc: "Push a Python string object."},
	0x54: {Name: "BINSTRING", Code: 0x54, Arg: argString4, Proto: 1, Doc: "Push a Python string object."},
	0x55: {Name: "SHORT_BINSTRING", Code: 0x55, Arg: argString1, Proto: 1, Doc: "Push a Python string object."},
	0x42: {Name: "BINBYTES", Code: 0x42, Arg: argBytes4, Proto: 3, Doc: "Push a Python bytes object."},
	0x43: {Name: "SHORT_BINBYTES", Code: 0x43, Arg: argBytes1, Proto: 3, Doc: "Push a Python bytes object."},
	0x8e: {Name: "BINBYTES8", Code: 0x8e, Arg: argBytes8, Proto: 4, Doc: "Push a Python bytes object."},
	0x96: {Name: "BYTEARRAY8", Code: 0x96, Arg: argBytearray8, Proto: 5, Doc: "Push a Python bytearray object."},
	0x97: {Name: "NEXT_BUFFER", Code: 0x97, Arg: argNone, Proto: 5, Doc: "Push an out-of-band buffer object."},
	0x98: {Name: "READONLY_BUFFER", Code: 0x98, Arg: argNone, Proto: 5, Doc: "Make an out-of-band buffer object read-only."},
	0x4e: {Name: "NONE", Code: 0x4e, Arg: argNone, Proto: 0, Doc: "Push None on the stack."},
	0x88: {Name: "NEWTRUE", Code: 0x88, Arg: argNone, Proto: 2, Doc: "Push True onto the stack."},
	0x89: {Name: "NEWFALSE", Code: 0x89, Arg: argNone, Proto: 2, Doc: "Push False onto the stack."},
	0x56: {Name: "UNICODE", Code: 0x56, Arg: argUnicodestringnl, Proto: 0, Doc: "Push a Python Unicode string object."},
	0x8c: {Name: "SHORT_BINUNICODE", Code: 0x8c, Arg: argUnicodestring1, Proto: 4, Doc: "Push a Python Unicode string object."},
	0x58: {Name: "BINUNICODE", Code: 0x58, Arg: argUnicodestring4, Proto: 1, Doc: "Push a Python Unicode string object."},
	0x8d: {Name: "BINUNICODE8", Code: 0x8d, Arg: argUnicodestring8, Proto: 4, Doc: "Push a Python Unicode string object."},
	0x46: {Name: "FLOAT", Code: 0x46, Arg: argFloatnl, Proto: 0, Doc: "Newline-terminated decimal float literal."},
	0x47: {Name: "BINFLOAT", Code: 0x47, Arg: argFloat8, Proto: 1, Doc: "Float stored in binary form, with 8 bytes of data."},
	0x5d: {Name: "EMPTY_LIST", Code: 0x5d, Arg: argNone, Proto: 1, Doc: "Push an empty list."},
	0x61: {Name: "APPEND", Code: 0x61, Arg: argNone, Proto: 0, Doc: "Append an object to a list."},
	0x65: {Name: "APPENDS", Code: 0x65, Arg: argNone, Proto: 1, Doc: "Extend a list by a slice of stack objects."},
	0x6c: {Name: "LIST", Code: 0x6c, Arg: argNone, Proto: 0, Doc: "Build a list out of the topmost stack slice, after markobject."},
	0x29: {Name: "EMPTY_TUPLE", Code: 0x29, Arg: argNone, Proto: 1, Doc: "Push an empty tuple."},
	0x74: {Name: "TUPLE", Code: 0x74, Arg: argNone, Proto: 0, Doc: "Build a tuple out of the topmost stack slice, after markobject."},
	0x85: {Name: "TUPLE1", Code: 0x85, Arg: argNone, Proto: 2, Doc: "Build a one-tuple out of the topmost item on the stack."},
	0x86: {Name: "TUPLE2", Code: 0x86, Arg: argNone, Proto: 2, Doc: "Build a two-tuple out of the top two items on the stack."},
	0x87: {Name: "TUPLE3", Code: 0x87, Arg: argNone, Proto: 2, Doc: "Build a three-tuple out of the top three items on the stack."},
	0x7d: {Name: "EMPTY_DICT", Code: 0x7d, Arg: argNone, Proto: 1, Doc: "Push an empty dict."},
	0x64: {Name: "DICT", Code: 0x64, Arg: argNone, Proto: 0, Doc: "Build a dict out of the topmost stack slice, after markobject."},
	0x73: {Name: "SETITEM", Code: 0x73, Arg: argNone, Proto: 0, Doc: "Add a key+value pair to an existing dict."},
	0x75: {Name: "SETITEMS", Code: 0x75, Arg: argNone, Proto: 1, Doc: "Add an arbitrary number of key+value pairs to an existing dict."},
	0x8f: {Name: "EMPTY_SET", Code: 0x8f, Arg: argNone, Proto: 4, Doc: "Push an empty set."},
	0x90: {Name: "ADDITEMS", Code: 0x90, Arg: argNone, Proto: 4, Doc: "Add an arbitrary number of items to an existing set."},
	0x91: {Name: "FROZENSET", Code: 0x91, Arg: argNone, Proto: 4, Doc: "Build a frozenset out of the topmost slice, after markobject."},
	0x30: {Name: "POP", Code: 0x30, Arg: argNone, Proto: 0, Doc: "Discard the top stack item, shrinking the stack by one item."},
	0x32: {Name: "DUP", Code: 0x32, Arg: argNone, Proto: 0, Doc: "Push the top stack item onto the stack again, duplicating it."},
	0x28: {Name: "MARK", Code: 0x28, Arg: argNone, Proto: 0, Doc: "Push markobject onto the stack."},
	0x31: {Name: "POP_MARK", Code: 0x31, Arg: argNone, Proto: 1, Doc: "Pop all the stack objects at and above the topmost markobject."},
	0x67: {Name: "GET", Code: 0x67, Arg: argDecimalnlShort, Proto: 0, Doc: "Read an object from the memo and push it on the stack."},
	0x68: {Name: "BINGET", Code: 0x68, Arg: argUint1, Proto: 1, Doc: "Read an object from the memo and push it on the stack."},
	0x6a: {Name: "LONG_BINGET", Code: 0x6a, Arg: argUint4, Proto: 1, Doc: "Read an object from the memo and push it on the stack."},
	0x70: {Name: "PUT", Code: 0x70, Arg: argDecimalnlShort, Proto: 0, Doc: "Store the stack top into the memo.  The stack is not popped."},
	0x71: {Name: "BINPUT", Code: 0x71, Arg: argUint1, Proto: 1, Doc: "Store the stack top into the memo.  The stack is not popped."},
	0x72: {Name: "LONG_BINPUT", Code: 0x72, Arg: argUint4, Proto: 1, Doc: "Store the stack top into the memo.  The stack is not popped."},
	0x94: {Name: "MEMOIZE", Code: 0x94, Arg: argNone, Proto: 4, Doc: "Store the stack top into the memo.  The stack is not popped."},
	0x82: {Name: "EXT1", Code: 0x82, Arg: argUint1, Proto: 2, Doc: "Extension code."},
	0x83: {Name: "EXT2", Code: 0x83, Arg: argUint2, Proto: 2, Doc: "Extension code."},
	0x84: {Name: "EXT4", Code: 0x84, Arg: argInt4, Proto: 2, Doc: "Extension code."},
	0x63: {Name: "GLOBAL", Code: 0x63, Arg: argStringnlNoescapePair, Proto: 0, Doc: "Push a global object (module.attr) on the stack."},
	0x93: {Name: "STACK_GLOBAL", Code: 0x93, Arg: argNone, Proto: 4, Doc: "Push a global object (module.attr) on the stack."},
	0x52: {Name: "REDUCE", Code: 0x52, Arg: argNone, Proto: 0, Doc: "Push an object built from a callable and an argument tuple."},
	0x62: {Name: "BUILD", Code: 0x62, Arg: argNone, Proto: 0, Doc: "Finish building an object, via __setstate__ or dict update."},
	0x69: {Name: "INST", Code: 0x69, Arg: argStringnlNoescapePair, Proto: 0, Doc: "Build a class instance."},
	0x6f: {Name: "OBJ", Code: 0x6f, Arg: argNone, Proto: 1, Doc: "Build a class instance."},
	0x81: {Name: "NEWOBJ", Code: 0x81, Arg: argNone, Proto: 2, Doc: "Build an object instance."},
	0x92: {Name: "NEWOBJ_EX", Code: 0x92, Arg: argNone, Proto: 4, Doc: "Build an object instance."},
	0x80: {Name: "PROTO", Code: 0x80, Arg: argUint1, Proto: 2, Doc: "Protocol version indicator."},
	0x2e: {Name: "STOP", Code: 0x2e, Arg: argNone, Proto: 0, Doc: "Stop the unpickling machine."},
	0x95: {Name: "FRAME", Code: 0x95, Arg: argUint8, Proto: 4, Doc: "Indicate the beginning of a new frame."},
	0x50: {Name: "PERSID", Code: 0x50, Arg: argStringnlNoescape, Proto: 0, Doc: "Push an object identified by a persistent ID."},
	0x51: {Name: "BINPERSID", Code: 0x51, Arg: argNone, Proto: 1, Doc: "Push an object identified by a persistent ID."},
}

// opcodeByName returns the opcode with the pickletools name, or nil.
func opcodeByName(name string) *opInfo {
	for _, o := range opcodes {
		if o != nil && o.Name == name {
			return o
		}
	}
	return nil
}

// opName returns the pickletools name of an opcode byte, or "" when it is not one.
func opName(c byte) string {
	if o := opcodes[c]; o != nil {
		return o.Name
	}
	return ""
}
