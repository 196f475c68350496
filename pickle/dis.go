package pickle

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"strconv"
	"strings"
)

// disStackEffect is the stack behaviour of an opcode, as pickletools describes
// it: how many items it pops (before) and pushes (after), and where a
// markobject sits among the items it pops (-1: none).
type disStackEffect struct {
	before, markAt, after int
	pushesMark            bool
}

// disEffects lists the stack effects of the opcodes, from pickletools'
// stack_before and stack_after.
var disEffects = map[string]disStackEffect{
	"APPEND": {2, -1, 1, false}, "APPENDS": {3, 1, 1, false}, "LIST": {2, 0, 1, false},
	"TUPLE": {2, 0, 1, false}, "TUPLE1": {1, -1, 1, false}, "TUPLE2": {2, -1, 1, false},
	"TUPLE3": {3, -1, 1, false}, "DICT": {2, 0, 1, false}, "SETITEM": {3, -1, 1, false},
	"SETITEMS": {3, 1, 1, false}, "ADDITEMS": {3, 1, 1, false}, "FROZENSET": {2, 0, 1, false},
	"POP": {1, -1, 0, false}, "DUP": {1, -1, 2, false}, "MARK": {0, -1, 1, true},
	"POP_MARK": {2, 0, 0, false}, "PUT": {0, -1, 0, false}, "BINPUT": {0, -1, 0, false},
	"LONG_BINPUT": {0, -1, 0, false}, "MEMOIZE": {1, -1, 1, false}, "STACK_GLOBAL": {2, -1, 1, false},
	"REDUCE": {2, -1, 1, false}, "BUILD": {2, -1, 1, false}, "INST": {2, 0, 1, false},
	"OBJ": {3, 0, 1, false}, "NEWOBJ": {2, -1, 1, false}, "NEWOBJ_EX": {3, -1, 1, false},
	"PROTO": {0, -1, 0, false}, "STOP": {1, -1, 0, false}, "FRAME": {0, -1, 0, false},
	"BINPERSID": {1, -1, 1, false}, "READONLY_BUFFER": {1, -1, 1, false},
}

// disEffectOf returns the stack effect of an opcode; every opcode not listed
// pushes one item.
func disEffectOf(name string) disStackEffect {
	if e, ok := disEffects[name]; ok {
		return e
	}
	return disStackEffect{0, -1, 1, false}
}

// Disassemble writes a symbolic disassembly of the pickle in data to w, in
// the format of CPython's pickletools.dis (and `python -m pickletools`):
// one line per opcode with its byte offset, the opcode byte, its name
// (indented by the number of open MARKs) and its argument, then the line
// "highest protocol among opcodes = N".
//
// Arguments are shown as Python's repr shows them, with two documented
// differences: a lone surrogate in a str is shown escaped as Python does, but
// bytes that are not valid in a STRING opcode are shown rather than refused.
// Like pickletools, Disassemble checks the MARK and memo structure and stops
// with an error (after writing the offending line) at an unknown opcode, a
// truncated argument, a missing MARK, a bad memo reference or a pickle
// without STOP. Nothing is executed or built: it is safe on any input.
func Disassemble(w io.Writer, data []byte) error {
	bw := bufio.NewWriter(w)
	err := disassemble(bw, data)
	if ferr := bw.Flush(); err == nil {
		err = ferr
	}
	return err
}

func disassemble(w *bufio.Writer, data []byte) error {
	var (
		stack     []bool // true: markobject
		markstack []int
		memo      = map[string]bool{}
		maxProto  = 0
		pos       = 0
	)
	for {
		if pos >= len(data) {
			return errors.New("pickle: pickle exhausted before seeing STOP")
		}
		code := data[pos]
		op := opcodes[code]
		if op == nil {
			return fmt.Errorf("pickle: at position %d, opcode %s unknown", pos, disByteRepr(code))
		}
		arg, hasArg, n, aerr := disArg(op, data[pos+1:])
		if aerr != nil {
			return fmt.Errorf("pickle: %s at position %d: %v", op.Name, pos, aerr)
		}
		fmt.Fprintf(w, "%5d: ", pos)
		line := fmt.Sprintf("%-4s %s%s", disCodeRepr(code), strings.Repeat(" ", 4*len(markstack)), op.Name)
		if op.Proto > maxProto {
			maxProto = op.Proto
		}
		eff := disEffectOf(op.Name)
		numtopop := eff.before
		markmsg := ""
		errmsg := ""
		if eff.markAt >= 0 || (op.Name == "POP" && len(stack) > 0 && stack[len(stack)-1]) {
			if len(markstack) > 0 {
				markpos := markstack[len(markstack)-1]
				markstack = markstack[:len(markstack)-1]
				markmsg = fmt.Sprintf("(MARK at %d)", markpos)
				for len(stack) > 0 && !stack[len(stack)-1] {
					stack = stack[:len(stack)-1]
				}
				if len(stack) > 0 {
					stack = stack[:len(stack)-1]
				}
				if eff.markAt >= 0 {
					numtopop = eff.markAt
				} else {
					numtopop = 0
				}
			} else {
				errmsg = "no MARK exists on stack"
				markmsg = errmsg
			}
		}
		switch op.Name {
		case "PUT", "BINPUT", "LONG_BINPUT", "MEMOIZE":
			var key string
			if op.Name == "MEMOIZE" {
				key = strconv.Itoa(len(memo))
				markmsg = "(as " + key + ")"
			} else {
				key = arg
			}
			switch {
			case memo[key]:
				if op.Name == "MEMOIZE" {
					errmsg = "memo key None already defined"
				} else {
					errmsg = "memo key " + arg + " already defined"
				}
			case len(stack) == 0:
				errmsg = "stack is empty -- can't store into memo"
			case stack[len(stack)-1]:
				errmsg = "can't store markobject in the memo"
			default:
				memo[key] = true
			}
		case "GET", "BINGET", "LONG_BINGET":
			if !memo[arg] {
				errmsg = "memo key " + arg + " has never been stored into"
			}
		}
		if hasArg || markmsg != "" {
			if pad := 10 - len(op.Name); pad > 0 {
				line += strings.Repeat(" ", pad)
			}
			if hasArg {
				line += " " + arg
			}
			if markmsg != "" {
				line += " " + markmsg
			}
		}
		w.WriteString(line)
		w.WriteByte('\n')
		if errmsg != "" {
			return errors.New("pickle: " + errmsg)
		}
		if len(stack) < numtopop {
			return fmt.Errorf("pickle: tries to pop %d items from stack with only %d items", numtopop, len(stack))
		}
		stack = stack[:len(stack)-numtopop]
		if eff.pushesMark {
			markstack = append(markstack, pos)
			stack = append(stack, true)
		} else {
			for range eff.after {
				stack = append(stack, false)
			}
		}
		pos += 1 + n
		if op.Name == "STOP" {
			break
		}
	}
	fmt.Fprintf(w, "highest protocol among opcodes = %d\n", maxProto)
	if len(stack) > 0 {
		return fmt.Errorf("pickle: stack not empty after STOP: %d items", len(stack))
	}
	return nil
}

// disCodeRepr is repr(opcode char)[1:-1], as pickletools prints it.
func disCodeRepr(c byte) string {
	if c >= 0x20 && c < 0x7f {
		if c == '\\' {
			return `\\`
		}
		return string(rune(c))
	}
	return fmt.Sprintf(`\x%02x`, c)
}

// disByteRepr is repr of a one-character bytes-like opcode for error text.
func disByteRepr(c byte) string {
	if c >= 0x20 && c < 0x7f && c != '\'' && c != '\\' {
		return "'" + string(rune(c)) + "'"
	}
	return fmt.Sprintf(`'\x%02x'`, c)
}

var disErrTruncated = errors.New("not enough data in the pickle")

// disArg reads the inline argument of op from p and returns it formatted as
// pickletools formats it (repr of the decoded argument), whether there is
// one, and its length in bytes.
func disArg(op *opInfo, p []byte) (string, bool, int, error) {
	fixed := func(n int) ([]byte, error) {
		if len(p) < n {
			return nil, disErrTruncated
		}
		return p[:n], nil
	}
	line := func() (string, int, error) {
		i := strings.IndexByte(string(p[:min(len(p), 1<<20)]), '\n')
		if i < 0 {
			if len(p) >= 1<<20 {
				return "", 0, errors.New("no newline found within 1 MiB")
			}
			return "", 0, errors.New("no newline found when trying to read a line")
		}
		return string(p[:i]), i + 1, nil
	}
	counted := func(lenBytes int) ([]byte, int, error) {
		b, err := fixed(lenBytes)
		if err != nil {
			return nil, 0, err
		}
		var n uint64
		switch lenBytes {
		case 1:
			n = uint64(b[0])
		case 4:
			n = uint64(binary.LittleEndian.Uint32(b))
		case 8:
			n = binary.LittleEndian.Uint64(b)
		}
		if n > uint64(len(p)-lenBytes) {
			return nil, 0, fmt.Errorf("expected %d bytes in the argument, but only %d remain", n, len(p)-lenBytes)
		}
		return p[lenBytes : lenBytes+int(n)], lenBytes + int(n), nil
	}
	switch op.Arg {
	case argNone:
		return "", false, 0, nil
	case argUint1:
		b, err := fixed(1)
		if err != nil {
			return "", true, 0, err
		}
		return strconv.Itoa(int(b[0])), true, 1, nil
	case argUint2:
		b, err := fixed(2)
		if err != nil {
			return "", true, 0, err
		}
		return strconv.Itoa(int(binary.LittleEndian.Uint16(b))), true, 2, nil
	case argInt4:
		b, err := fixed(4)
		if err != nil {
			return "", true, 0, err
		}
		return strconv.Itoa(int(int32(binary.LittleEndian.Uint32(b)))), true, 4, nil
	case argUint4:
		b, err := fixed(4)
		if err != nil {
			return "", true, 0, err
		}
		return strconv.FormatUint(uint64(binary.LittleEndian.Uint32(b)), 10), true, 4, nil
	case argUint8:
		b, err := fixed(8)
		if err != nil {
			return "", true, 0, err
		}
		return strconv.FormatUint(binary.LittleEndian.Uint64(b), 10), true, 8, nil
	case argFloat8:
		b, err := fixed(8)
		if err != nil {
			return "", true, 0, err
		}
		return FloatRepr(math.Float64frombits(binary.BigEndian.Uint64(b))), true, 8, nil
	case argLong1, argLong4:
		lb := 1
		if op.Arg == argLong4 {
			lb = 4
		}
		b, n, err := counted(lb)
		if err != nil {
			return "", true, 0, err
		}
		return fmt.Sprint(decodeLong(b)), true, n, nil
	case argDecimalnlShort, argDecimalnlLong:
		s, n, err := line()
		if err != nil {
			return "", true, 0, err
		}
		if op.Arg == argDecimalnlShort {
			switch s {
			case "00":
				return "False", true, n, nil
			case "01":
				return "True", true, n, nil
			}
		} else {
			s = strings.TrimSuffix(s, "L")
		}
		if len(s) > 10000 {
			return "", true, 0, errors.New("integer literal too long")
		}
		v, ok := new(big.Int).SetString(strings.TrimSpace(s), 10)
		if !ok {
			return "", true, 0, fmt.Errorf("invalid literal for int() with base 10: %s", strRepr(s))
		}
		return v.String(), true, n, nil
	case argFloatnl:
		s, n, err := line()
		if err != nil {
			return "", true, 0, err
		}
		f, perr := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if perr != nil && !errors.Is(perr, strconv.ErrRange) {
			return "", true, 0, fmt.Errorf("could not convert string to float: %s", strRepr(s))
		}
		return FloatRepr(f), true, n, nil
	case argStringnl:
		s, n, err := line()
		if err != nil {
			return "", true, 0, err
		}
		if len(s) >= 2 && (s[0] == '\'' || s[0] == '"') && s[len(s)-1] == s[0] {
			s = s[1 : len(s)-1]
		} else {
			return "", true, 0, errors.New("no string quotes around " + strRepr(s))
		}
		b, derr := escapeDecode([]byte(s))
		if derr != nil {
			return "", true, 0, derr
		}
		return strRepr(disLatin1(b)), true, n, nil
	case argStringnlNoescape:
		s, n, err := line()
		if err != nil {
			return "", true, 0, err
		}
		return strRepr(disLatin1([]byte(s))), true, n, nil
	case argStringnlNoescapePair:
		s1, n1, err := line()
		if err != nil {
			return "", true, 0, err
		}
		p = p[n1:]
		s2, n2, err := line()
		if err != nil {
			return "", true, 0, err
		}
		return strRepr(disLatin1([]byte(s1 + " " + s2))), true, n1 + n2, nil
	case argUnicodestringnl:
		s, n, err := line()
		if err != nil {
			return "", true, 0, err
		}
		u, uerr := rawUnicodeEscapeDecode([]byte(s))
		if uerr != nil {
			return "", true, 0, uerr
		}
		return strRepr(u), true, n, nil
	case argString1, argString4:
		lb := 1
		if op.Arg == argString4 {
			lb = 4
		}
		b, n, err := counted(lb)
		if err != nil {
			return "", true, 0, err
		}
		return strRepr(disLatin1(b)), true, n, nil
	case argBytes1, argBytes4, argBytes8, argBytearray8:
		lb := map[argKind]int{argBytes1: 1, argBytes4: 4, argBytes8: 8, argBytearray8: 8}[op.Arg]
		b, n, err := counted(lb)
		if err != nil {
			return "", true, 0, err
		}
		if op.Arg == argBytearray8 {
			return "bytearray(" + bytesRepr(b) + ")", true, n, nil
		}
		return bytesRepr(b), true, n, nil
	case argUnicodestring1, argUnicodestring4, argUnicodestring8:
		lb := map[argKind]int{argUnicodestring1: 1, argUnicodestring4: 4, argUnicodestring8: 8}[op.Arg]
		b, n, err := counted(lb)
		if err != nil {
			return "", true, 0, err
		}
		return strRepr(string(b)), true, n, nil
	}
	return "", false, 0, fmt.Errorf("unknown argument kind %d", op.Arg)
}

// disLatin1 decodes bytes as latin-1 into a Go (UTF-8) string.
func disLatin1(b []byte) string {
	var sb strings.Builder
	sb.Grow(len(b))
	for _, c := range b {
		sb.WriteRune(rune(c))
	}
	return sb.String()
}
