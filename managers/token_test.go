package managers_test

import (
	"bytes"
	"encoding/hex"
	"testing"

	"github.com/mpgo/mpgo/managers"
	"github.com/mpgo/mpgo/pickle"
)

// Golden pickles of Token('Child', ('127.0.0.1', 16101), '7fe6b54aa550') from CPython
// (pickle.dumps(token, protocol): 2.7 for protocol 2, 3.13 for 3 and 4).
var tokenGolden = []struct {
	protocol int
	python2  bool
	hex      string
}{
	{2, true, "8002636d756c746970726f63657373696e672e6d616e61676572730a546f6b656e0a71002981710155054368696c64710255093132372e302e302e3171034de53e867104550c3766653662353461613535307105877106622e"},
	{3, false, "8003636d756c746970726f63657373696e672e6d616e61676572730a546f6b656e0a71002981710158050000004368696c64710258090000003132372e302e302e3171034de53e867104580c0000003766653662353461613535307105877106622e"},
	{4, false, "80049554000000000000008c186d756c746970726f63657373696e672e6d616e6167657273948c05546f6b656e9493942981948c054368696c64948c093132372e302e302e31944de53e86948c0c376665366235346161353530948794622e"},
}

func TestTokenPickle(t *testing.T) {
	tok := managers.Token{TypeID: "Child", Address: pickle.Tuple{"127.0.0.1", int64(16101)}, ID: "7fe6b54aa550"}
	for _, g := range tokenGolden {
		want, _ := hex.DecodeString(g.hex)
		var buf bytes.Buffer
		enc := pickle.NewEncoder(&buf)
		enc.SetProtocol(g.protocol)
		enc.SetPython2(g.python2)
		if err := enc.Encode(tok); err != nil {
			t.Fatal(err)
		}
		got := buf.Bytes()
		if g.protocol == 2 { // memo indices may differ (CPython 2.7 pickle vs cPickle): ignore BINPUT operands
			got, want = stripBinput(got), stripBinput(want)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("protocol %d:\n got %x\nwant %x", g.protocol, got, want)
		}
		var v any
		if err := pickle.Unmarshal(want, &v); err != nil {
			t.Fatal(err)
		}
		dec, err := managers.TokenFromValue(v)
		if err != nil || dec.TypeID != tok.TypeID || dec.ID != tok.ID || !pickle.Equal(dec.Address, tok.Address) {
			t.Errorf("protocol %d: decoded %v, %v", g.protocol, dec, err)
		}
	}
}

func TestRebuildProxyRoundTrip(t *testing.T) {
	kw := pickle.NewDict()
	kw.Set("exposed", pickle.Tuple{"get", "put"})
	rp := managers.RebuildProxy{Func: managers.AutoProxyFunc, Token: managers.Token{TypeID: "Queue", Address: "/tmp/s", ID: "7f01"}, Kwargs: kw}
	b, err := pickle.Marshal(rp)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := pickle.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	got, ok := managers.RebuildProxyFromValue(v)
	if !ok || got.Func != rp.Func || got.Token != rp.Token || got.Serializer != "pickle" || !pickle.Equal(got.Kwargs, kw) {
		t.Fatalf("round trip: %s", pickle.Repr(v))
	}
}

func TestPyException(t *testing.T) {
	e := managers.NewPyException("", "KeyError", "x")
	if e.Error() != "KeyError: 'x'" {
		t.Errorf("Error() = %q", e.Error())
	}
	if managers.ErrQueueEmpty.Error() != "queue.Empty" {
		t.Errorf("Error() = %q", managers.ErrQueueEmpty.Error())
	}
	re := &managers.RemoteError{Kind: managers.KindError, Exception: &managers.PyException{Module: "_queue", Name: "Empty"}}
	if !errorsIs(re, &managers.PyException{Module: "queue", Name: "Empty"}) {
		t.Error("errors.Is(RemoteError{_queue.Empty}, queue.Empty) is false")
	}
	b, err := (managers.Reply{Kind: managers.KindError, Value: e}).Encode(2, true)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte("cexceptions\nKeyError\n")) {
		t.Errorf("py2 #ERROR: %q", b)
	}
}

// stripBinput drops BINPUT opcodes (0x71 and its operand); the golden pickles hold no 'q' byte
// elsewhere.
func stripBinput(b []byte) []byte {
	var out []byte
	for i := 0; i < len(b); i++ {
		if b[i] == 0x71 && i+1 < len(b) {
			i++
			continue
		}
		out = append(out, b[i])
	}
	return out
}
