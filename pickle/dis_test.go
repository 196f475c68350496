package pickle_test

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/mpgo/mpgo/pickle"
)

// disGolden holds pickles and CPython 3.12's pickletools.dis output for them.
var disGolden = []struct{ name, hex, want string }{
	{"py2_proto0", "286c70300a53276162270a70310a615327785c6e5c27225c5c5c7830375c783031270a70320a614c354c0a61565c75323061635c7530303563780a70330a612e", "    0: (    MARK\n    1: l        LIST       (MARK at 0)\n    2: p    PUT        0\n    5: S    STRING     'ab'\n   11: p    PUT        1\n   14: a    APPEND\n   15: S    STRING     'x\\n\\'\"\\\\\\x07\\x01'\n   35: p    PUT        2\n   38: a    APPEND\n   39: L    LONG       5\n   43: a    APPEND\n   44: V    UNICODE    '\u20ac\\\\x'\n   59: p    PUT        3\n   62: a    APPEND\n   63: .    STOP\nhighest protocol among opcodes = 0\n"},
	{"proto0", "286c70300a49310a614c2d313138303539313632303731373431313330333432344c0a6146312e350a615668e95c75303030610a70310a61635f636f646563730a656e636f64650a70320a2856620a70330a566c6174696e310a70340a7470350a5270360a612849310a7470370a61286470380a566b0a70390a4e73614930310a612e", "    0: (    MARK\n    1: l        LIST       (MARK at 0)\n    2: p    PUT        0\n    5: I    INT        1\n    8: a    APPEND\n    9: L    LONG       -1180591620717411303424\n   35: a    APPEND\n   36: F    FLOAT      1.5\n   41: a    APPEND\n   42: V    UNICODE    'h\u00e9\\n'\n   52: p    PUT        1\n   55: a    APPEND\n   56: c    GLOBAL     '_codecs encode'\n   72: p    PUT        2\n   75: (    MARK\n   76: V        UNICODE    'b'\n   79: p        PUT        3\n   82: V        UNICODE    'latin1'\n   90: p        PUT        4\n   93: t        TUPLE      (MARK at 75)\n   94: p    PUT        5\n   97: R    REDUCE\n   98: p    PUT        6\n  101: a    APPEND\n  102: (    MARK\n  103: I        INT        1\n  106: t        TUPLE      (MARK at 102)\n  107: p    PUT        7\n  110: a    APPEND\n  111: (    MARK\n  112: d        DICT       (MARK at 111)\n  113: p    PUT        8\n  116: V    UNICODE    'k'\n  119: p    PUT        9\n  122: N    NONE\n  123: s    SETITEM\n  124: a    APPEND\n  125: I    INT        True\n  129: a    APPEND\n  130: .    STOP\nhighest protocol among opcodes = 0\n"},
	{"proto2_rec", "80025d7100284b015801000000617101680065635f5f6275696c74696e5f5f0a7365740a71025d7103284b014b0265857104527105635f5f6275696c74696e5f5f0a66726f7a656e7365740a71065d71074b036185710852710987710a2e", "    0: \\x80 PROTO      2\n    2: ]    EMPTY_LIST\n    3: q    BINPUT     0\n    5: (    MARK\n    6: K        BININT1    1\n    8: X        BINUNICODE 'a'\n   14: q        BINPUT     1\n   16: h        BINGET     0\n   18: e        APPENDS    (MARK at 5)\n   19: c    GLOBAL     '__builtin__ set'\n   36: q    BINPUT     2\n   38: ]    EMPTY_LIST\n   39: q    BINPUT     3\n   41: (    MARK\n   42: K        BININT1    1\n   44: K        BININT1    2\n   46: e        APPENDS    (MARK at 41)\n   47: \\x85 TUPLE1\n   48: q    BINPUT     4\n   50: R    REDUCE\n   51: q    BINPUT     5\n   53: c    GLOBAL     '__builtin__ frozenset'\n   76: q    BINPUT     6\n   78: ]    EMPTY_LIST\n   79: q    BINPUT     7\n   81: K    BININT1    3\n   83: a    APPEND\n   84: \\x85 TUPLE1\n   85: q    BINPUT     8\n   87: R    REDUCE\n   88: q    BINPUT     9\n   90: \\x87 TUPLE3\n   91: q    BINPUT     10\n   93: .    STOP\nhighest protocol among opcodes = 2\n"},
	{"proto5", "8005952f000000000000005d94289602000000000000006162948f94284b014b0290284b0391948a090000000000000000018c0378787894652e", "    0: \\x80 PROTO      5\n    2: \\x95 FRAME      47\n   11: ]    EMPTY_LIST\n   12: \\x94 MEMOIZE    (as 0)\n   13: (    MARK\n   14: \\x96     BYTEARRAY8 bytearray(b'ab')\n   25: \\x94     MEMOIZE    (as 1)\n   26: \\x8f     EMPTY_SET\n   27: \\x94     MEMOIZE    (as 2)\n   28: (        MARK\n   29: K            BININT1    1\n   31: K            BININT1    2\n   33: \\x90         ADDITEMS   (MARK at 28)\n   34: (        MARK\n   35: K            BININT1    3\n   37: \\x91         FROZENSET  (MARK at 34)\n   38: \\x94     MEMOIZE    (as 3)\n   39: \\x8a     LONG1      18446744073709551616\n   50: \\x8c     SHORT_BINUNICODE 'xxx'\n   55: \\x94     MEMOIZE    (as 4)\n   56: e        APPENDS    (MARK at 13)\n   57: .    STOP\nhighest protocol among opcodes = 5\n"},
}

func TestDisassembleGolden(t *testing.T) {
	for _, g := range disGolden {
		t.Run(g.name, func(t *testing.T) {
			data, err := hex.DecodeString(g.hex)
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			if err := pickle.Disassemble(&out, data); err != nil {
				t.Fatalf("Disassemble: %v\n%s", err, out.String())
			}
			if out.String() != g.want {
				t.Fatalf("got\n%s\nwant\n%s", out.String(), g.want)
			}
		})
	}
}

func TestDisassembleErrors(t *testing.T) {
	cases := []struct {
		name, data, err, lastLine string
	}{
		{"no stop", "\x80\x04K\x01", "exhausted before seeing STOP", "    2: K    BININT1    1"},
		{"unknown opcode", "\x80\x04\xff", "opcode '\\xff' unknown", "    0: \\x80 PROTO      4"},
		{"truncated", "\x80\x04X\x10\x00\x00\x00ab", "BINUNICODE at position 2", "    0: \\x80 PROTO      4"},
		{"no mark", "K\x01t.", "no MARK exists on stack", "    2: t    TUPLE      no MARK exists on stack"},
		{"bad get", "h\x05.", "memo key 5 has never been stored into", "    0: h    BINGET     5"},
		{"stack left", "K\x01K\x02.", "stack not empty after STOP", "highest protocol among opcodes = 1"},
		{"underflow", "\x85.", "tries to pop 1 items from stack with only 0 items", "    0: \\x85 TUPLE1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var out bytes.Buffer
			err := pickle.Disassemble(&out, []byte(c.data))
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Fatalf("err = %v, want %q", err, c.err)
			}
			lines := strings.Split(strings.TrimRight(out.String(), "\n"), "\n")
			if last := lines[len(lines)-1]; last != c.lastLine {
				t.Fatalf("last line %q, want %q", last, c.lastLine)
			}
		})
	}
}

func FuzzDisassemble(f *testing.F) {
	for _, g := range disGolden {
		data, _ := hex.DecodeString(g.hex)
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var out bytes.Buffer
		_ = pickle.Disassemble(&out, data) // must not panic or hang
	})
}
