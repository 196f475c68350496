// Package capture holds test helpers shared by several packages that compare bytes with
// captures of what CPython sends (hex dumps, as in /shared/spec/captures).
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
