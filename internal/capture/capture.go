package capture

import (
	"encoding/hex"
	"testing"
)

// Hex decodes the hex dump s of a captured message and fails tb if s is not valid hex.
func Hex(tb testing.TB, s string) []byte {
	tb.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}
