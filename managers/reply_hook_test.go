package managers_test

import (
	"context"
	"errors"
	"testing"

	"github.com/mpgo/mpgo/internal/pymock"
	"github.com/mpgo/mpgo/managers"
	"github.com/mpgo/mpgo/pickle"
)

// TestOnReplyWritten: a function given to OnReplyWritten runs after the reply went out (nil), or
// with the reason it did not (a result that cannot be pickled), once per call and in order; it
// does not run for a Go caller.
func TestOnReplyWritten(t *testing.T) {
	results := make(chan error, 16)
	reg := managers.NewRegistry()
	reg.MustRegister("Hooked", managers.Type{
		New: func(context.Context, pickle.Tuple, *pickle.Dict) (managers.Object, error) {
			return managers.ObjectFunc(func(ctx context.Context, name string, args pickle.Tuple, kw *pickle.Dict) (any, error) {
				// A derived context must still find the call.
				ctx, cancel := context.WithCancel(ctx)
				defer cancel()
				if !managers.OnReplyWritten(ctx, func(err error) { results <- err }) {
					return nil, errors.New("OnReplyWritten refused a served call")
				}
				switch name {
				case "ok":
					return "fine", nil
				case "unpicklable":
					return make(chan int), nil
				}
				return nil, managers.NewPyException("builtins", "KeyError", name)
			}), nil
		},
		Exposed: []string{"ok", "unpicklable", "fail"},
	})
	ts := startServer(t, &managers.Server{Registry: reg})
	ctx := t.Context()
	m := ts.manager(pymock.All[len(pymock.All)-1])
	defer m.Close()
	ident, _, err := m.Create(ctx, "Hooked")
	if err != nil {
		t.Fatal(err)
	}
	r, err := m.Call(ctx, ident, "ok", nil, nil)
	mustReply(t, r, err, "#RETURN")
	if err := <-results; err != nil {
		t.Fatalf("after a written reply: %v", err)
	}
	r, err = m.Call(ctx, ident, "unpicklable", nil, nil)
	mustReply(t, r, err, "#UNSERIALIZABLE")
	if err := <-results; err == nil {
		t.Fatal("an unpicklable result was reported written")
	}
	r, err = m.Call(ctx, ident, "fail", nil, nil)
	mustReply(t, r, err, "#ERROR")
	if err := <-results; err != nil {
		t.Fatalf("after a written error reply: %v", err)
	}
	select {
	case err := <-results:
		t.Fatalf("extra call of the function: %v", err)
	default:
	}
	if managers.OnReplyWritten(context.Background(), func(error) { t.Error("called for a Go caller") }) {
		t.Fatal("OnReplyWritten accepted a context that is no served call's")
	}
}
