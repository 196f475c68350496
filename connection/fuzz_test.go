package connection

import (
	"bytes"
	"errors"
	"testing"

	"github.com/mpgo/mpgo/internal/capture"
)

func addHandshakeSeeds(f *testing.F) {
	for _, g := range responderGolden {
		f.Add(capture.Hex(f, g.challenge+welcomeFrame))
		f.Add(capture.Hex(f, g.response+welcomeFrame))
	}
	for _, g := range challengerGolden {
		f.Add(capture.Hex(f, g.response))
	}
	f.Add([]byte{})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 1, 0})
}

// FuzzAnswerChallenge feeds arbitrary peer bytes to the responder: it must
// never panic, never read more than a bounded amount, and fail only with
// ErrAuthFailed.
func FuzzAnswerChallenge(f *testing.F) {
	addHandshakeSeeds(f)
	f.Fuzz(func(t *testing.T, in []byte) {
		s := &scripted{in: bytes.NewReader(in)}
		err := AnswerChallenge(s, key)
		if err != nil && !errors.Is(err, ErrAuthFailed) {
			t.Fatalf("err = %v, not ErrAuthFailed", err)
		}
		if consumed := len(in) - s.in.Len(); consumed > 2*(12+MaxHandshakeFrame) {
			t.Fatalf("consumed %d bytes", consumed)
		}
	})
}

// FuzzDeliverChallenge feeds arbitrary responses to the challenger: without
// the key nothing may authenticate.
func FuzzDeliverChallenge(f *testing.F) {
	addHandshakeSeeds(f)
	f.Fuzz(func(t *testing.T, in []byte) {
		s := &scripted{in: bytes.NewReader(in)}
		err := ServerHandshake(s, key)
		if err == nil {
			t.Fatalf("authenticated with forged input %x", in)
		}
		if !errors.Is(err, ErrAuthFailed) {
			t.Fatalf("err = %v, not ErrAuthFailed", err)
		}
	})
}
