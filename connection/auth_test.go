package connection

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"testing"

	"github.com/mpgo/mpgo/internal/capture"
	"github.com/mpgo/mpgo/wire"
)

// scripted is a peer that replays captured frames and records what we write.
type scripted struct {
	in  *bytes.Reader
	out bytes.Buffer
}

func (s *scripted) Read(p []byte) (int, error)  { return s.in.Read(p) }
func (s *scripted) Write(p []byte) (int, error) { return s.out.Write(p) }

const welcomeFrame = "000000092357454c434f4d4523"
const failureFrame = "00000009234641494c55524523"

// Frames from ../../shared/spec/captures (key b'secret').
var responderGolden = []struct {
	name      string
	challenge string // frame the Python server sent
	response  string // frame the Python client answered
}{
	{
		"py313_modern", // handshake_py313.txt, S>C then C>S
		"0000003b234348414c4c454e4745237b7368613235367d1ca5106c0c0c091ff1e365be9f4f152cbf1bc34ab3aa81b8c73b65499f0a33c9c8147b784999f892",
		"000000287b7368613235367d48ce4edde6bf351fe07e7821ae60afb2c59da9b2c63cadb82eba315eb065ea2c",
	},
	{
		"py313_modern_second_half", // handshake_py313.txt, the client's challenge and the server's answer
		"0000003b234348414c4c454e4745237b7368613235367d1688496f7aef96e70654610d50084b10deaf22ceab1fb276525abec02df29c5745341455524f1a23",
		"000000287b7368613235367dfc8cbf78afafab08f6560798903983cdbf3c4ed5d8db53bacfd567b3b461d8af",
	},
	{
		"py311_legacy", // handshake_py311.txt
		"0000001f234348414c4c454e474523711d4cba0df5c052954cb369b38461b7f06938cc",
		"00000010305f7f5da9901bc50f86552002ea0fea",
	},
	{
		"py311server_py313client", // a legacy challenge answered by 3.13: raw MD5
		"0000001f234348414c4c454e4745230fbf2b146c282192ec0d2d1171d0090954a1ee6a",
		"000000107587e6b075cfe40155c837c7ff702ea5",
	},
}

func TestAnswerChallengeGolden(t *testing.T) {
	for _, g := range responderGolden {
		t.Run(g.name, func(t *testing.T) {
			s := &scripted{in: bytes.NewReader(capture.Hex(t, g.challenge+welcomeFrame))}
			if err := AnswerChallenge(s, []byte("secret")); err != nil {
				t.Fatal(err)
			}
			if got := hex.EncodeToString(s.out.Bytes()); got != g.response {
				t.Fatalf("response %s\nwant     %s", got, g.response)
			}
		})
	}
}

func TestAnswerChallengeRejected(t *testing.T) {
	g := responderGolden[0]
	s := &scripted{in: bytes.NewReader(capture.Hex(t, g.challenge+failureFrame))}
	err := AnswerChallenge(s, []byte("secret"))
	if !errors.Is(err, ErrAuthFailed) {
		t.Fatalf("err = %v, want ErrAuthFailed", err)
	}
}

// Challenger side: replay the client's captured response to the captured
// challenge message.
var challengerGolden = []struct {
	name, challenge, response string
	ok                        bool
}{
	{"py313", responderGolden[0].challenge, responderGolden[0].response, true},
	{ // handshake_py313server_py311client.txt: a legacy client MACs the whole prefixed message with MD5
		"py311client_md5_over_prefixed",
		"0000003b234348414c4c454e4745237b7368613235367db592c6b43ef1060dadb30a40717217d494cec9d2c40c2a20d865b1b44629371d36f0b8c90212692d",
		"0000001099694ca3d9f5bb3a2a2115d75eb61212", true,
	},
	{ // handshake_failure_py313server_py311client.txt: client key b'wrong'
		"wrong_key",
		"0000003b234348414c4c454e4745237b7368613235367d4eca1160618b5da6b1208bfbdf41cd473f1e9b12f2be55527483e4ec5a115d9b2b4ef9598d1415d2",
		"00000010034250e79c65c2c95ccaa216abb246c7", false,
	},
}

func TestDeliverChallengeGolden(t *testing.T) {
	for _, g := range challengerGolden {
		t.Run(g.name, func(t *testing.T) {
			frame := capture.Hex(t, g.challenge)
			msg := frame[4+len(challengePrefix):]
			s := &scripted{in: bytes.NewReader(capture.Hex(t, g.response))}
			err := deliverMessage(s, []byte("secret"), msg)
			want := g.challenge + welcomeFrame
			if !g.ok {
				want = g.challenge + failureFrame
				if !errors.Is(err, ErrAuthFailed) {
					t.Fatalf("err = %v, want ErrAuthFailed", err)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if got := hex.EncodeToString(s.out.Bytes()); got != want {
				t.Fatalf("wrote %s\nwant  %s", got, want)
			}
		})
	}
}

func TestChallengeFormat(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	go DeliverChallenge(a, key)
	p, err := wire.ReadFrame(b, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(p) != 59 || !bytes.HasPrefix(p, []byte("#CHALLENGE#{sha256}")) {
		t.Fatalf("challenge %q: want '#CHALLENGE#{sha256}' + 40 bytes", p)
	}
}

var key = []byte("secret")

// legacyResponder answers like CPython 2.7 to 3.11: raw HMAC-MD5 of the
// whole message, whatever it is.
func legacyResponder(rw io.ReadWriter, k []byte) error {
	ch, err := wire.ReadFrame(rw, 256)
	if err != nil {
		return err
	}
	if err := wire.WriteFrame(rw, mac("md5", k, ch[len(challengePrefix):])); err != nil {
		return err
	}
	w, err := wire.ReadFrame(rw, 256)
	if err != nil {
		return err
	}
	if string(w) != welcome {
		return errors.New("rejected")
	}
	return nil
}

// digestResponder answers a challenge with "{name}" + HMAC-name, as a 3.12+
// peer configured for another digest would.
func digestResponder(name string) func(io.ReadWriter, []byte) error {
	return func(rw io.ReadWriter, k []byte) error {
		ch, err := wire.ReadFrame(rw, 256)
		if err != nil {
			return err
		}
		msg := ch[len(challengePrefix):]
		var resp []byte
		if h, ok := digests[name]; ok {
			_ = h
			resp = append([]byte("{"+name+"}"), mac(name, k, msg)...)
		} else {
			resp = append([]byte("{"+name+"}"), make([]byte, 64)...)
		}
		if err := wire.WriteFrame(rw, resp); err != nil {
			return err
		}
		w, err := wire.ReadFrame(rw, 256)
		if err != nil {
			return err
		}
		if string(w) != welcome {
			return errors.New("rejected")
		}
		return nil
	}
}

// legacyChallenger challenges like CPython 2.7 to 3.11: 20 random bytes.
func legacyChallenger(rw io.ReadWriter, k []byte) error {
	msg := make([]byte, 20)
	rand.Read(msg)
	return deliverMessage(rw, k, msg)
}

func TestHandshakePairs(t *testing.T) {
	type half func(io.ReadWriter, []byte) error
	tests := []struct {
		name       string
		challenger half
		responder  half
		ckey, rkey []byte
		ok         bool
	}{
		{"mpgo_mpgo", DeliverChallenge, AnswerChallenge, key, key, true},
		{"mpgo_to_legacy", DeliverChallenge, legacyResponder, key, key, true},
		{"legacy_to_mpgo", legacyChallenger, AnswerChallenge, key, key, true},
		{"md5_prefixed", DeliverChallenge, digestResponder("md5"), key, key, true},
		{"sha384", DeliverChallenge, digestResponder("sha384"), key, key, true},
		{"sha3_256", DeliverChallenge, digestResponder("sha3_256"), key, key, true},
		{"sha3_384", DeliverChallenge, digestResponder("sha3_384"), key, key, true},
		{"sha512_refused", DeliverChallenge, digestResponder("sha512"), key, key, false},
		{"wrong_key", DeliverChallenge, AnswerChallenge, key, []byte("wrong"), false},
		{"wrong_key_legacy", DeliverChallenge, legacyResponder, key, []byte("wrong"), false},
		{"wrong_key_legacy_challenger", legacyChallenger, AnswerChallenge, key, []byte("wrong"), false},
		{"empty_key", DeliverChallenge, AnswerChallenge, []byte{}, []byte{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := net.Pipe()
			defer a.Close()
			defer b.Close()
			errc := make(chan error, 1)
			go func() { errc <- tt.responder(b, tt.rkey) }()
			cerr := tt.challenger(a, tt.ckey)
			rerr := <-errc
			if tt.ok {
				if cerr != nil || rerr != nil {
					t.Fatalf("challenger: %v, responder: %v", cerr, rerr)
				}
				return
			}
			if !errors.Is(cerr, ErrAuthFailed) {
				t.Fatalf("challenger err = %v, want ErrAuthFailed", cerr)
			}
			if rerr == nil {
				t.Fatal("responder succeeded")
			}
		})
	}
}

func TestAnswerChallengeMalformed(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
	}{
		{"no_prefix", wire.AppendFrame(nil, bytes.Repeat([]byte("x"), 31))},
		{"too_short", wire.AppendFrame(nil, []byte("#CHALLENGE#0123456789"))},
		{"unknown_digest", wire.AppendFrame(nil, append([]byte("#CHALLENGE#{sha512}"), make([]byte, 40)...))},
		{"too_long", wire.AppendFrame(nil, append([]byte("#CHALLENGE#{sha256}"), make([]byte, 300)...))},
		{"eof", nil},
		{"truncated", []byte{0, 0, 0, 59, '#'}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &scripted{in: bytes.NewReader(tt.in)}
			if err := AnswerChallenge(s, key); !errors.Is(err, ErrAuthFailed) {
				t.Fatalf("err = %v, want ErrAuthFailed", err)
			}
			if s.out.Len() != 0 {
				t.Fatalf("answered a malformed challenge: %x", s.out.Bytes())
			}
		})
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		msg  string
		name string
		ok   bool
	}{
		{string(make([]byte, 16)), "md5", true},
		{string(make([]byte, 20)), "md5", true},
		{"{sha256}" + string(make([]byte, 32)), "sha256", true},
		{"{sha3_384}xyz", "sha3_384", true},
		{"{sha512}" + string(make([]byte, 64)), "", false},
		{"{sha256" + string(make([]byte, 32)), "", false},
		{"{}" + string(make([]byte, 32)), "", false},
		{string(make([]byte, 17)), "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		name, _, ok := classify([]byte(tt.msg))
		if name != tt.name || ok != tt.ok {
			t.Errorf("classify(%q) = %q, %v; want %q, %v", tt.msg, name, ok, tt.name, tt.ok)
		}
	}
}
