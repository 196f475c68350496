package pickle

// Limits bound what a hostile pickle can cost the decoder. A zero field
// means the default.
type Limits struct {
	// MaxDepth is the maximum nesting depth of containers and objects
	// (default 10000; CPython itself cannot pickle values nested much deeper
	// than its recursion limit of 1000).
	MaxDepth int
	// MaxMemo is the maximum number of memo entries (default 1<<22).
	MaxMemo int
	// MaxAlloc is the maximum number of bytes the decoded value may take,
	// counted roughly: string and bytes lengths plus 16 bytes per container
	// item (default 1<<30). Stream decoders also never hold more than this
	// much input.
	MaxAlloc int64
	// MaxIntDigits is the maximum number of digits of an integer in the text
	// forms (INT, LONG) of protocols 0 and 1 (default 100000); parsing text
	// integers is quadratic.
	MaxIntDigits int
}

// DefaultLimits are the limits used when none are set.
var DefaultLimits = Limits{
	MaxDepth:     10000,
	MaxMemo:      1 << 22,
	MaxAlloc:     1 << 30,
	MaxIntDigits: 100000,
}

func (l Limits) withDefaults() Limits {
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultLimits.MaxDepth
	}
	if l.MaxMemo <= 0 {
		l.MaxMemo = DefaultLimits.MaxMemo
	}
	if l.MaxAlloc <= 0 {
		l.MaxAlloc = DefaultLimits.MaxAlloc
	}
	if l.MaxIntDigits <= 0 {
		l.MaxIntDigits = DefaultLimits.MaxIntDigits
	}
	return l
}

// maxEncodeDepth bounds the recursion of the encoder. It is far above
// MaxDepth so that anything the decoder accepts can be encoded again, while a
// Go value that contains itself without a list, dict, set or object in the
// cycle (a tuple or []any holding itself) fails instead of overflowing the
// stack.
const maxEncodeDepth = 100000
