package managers

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/mpgo/mpgo/pickle"
)

// servedCtx is the context of a call served to a client of dialect d.
func servedCtx(d wireDialect) context.Context {
	return &callContext{Context: context.Background(), c: &serverConn{dialect: d}}
}

// TestQueueStoresPickled: what a Python client puts is kept as a Pickled of its dialect and
// handed back as is to a Python getter (whose reply splices it: the same bytes as encoding the
// value); Go getters, XML-RPC clients and a Go Put get and keep values; an item holding a *Ref
// stays a value.
func TestQueueStoresPickled(t *testing.T) {
	item := pickle.Tuple{int64(7), "task-7", 1.5}
	for _, d := range []wireDialect{dialectPython2, dialectPython36, dialectPython38, {protocol: 5}} {
		q := NewQueue(0)
		ctx := servedCtx(d)
		if _, err := q.CallMethod(ctx, "put", pickle.Tuple{item}, nil); err != nil {
			t.Fatal(err)
		}
		p, ok := q.peek().(pickle.Pickled)
		if !ok || p.Protocol() != d.protocol || p.Python2() != d.python2 {
			t.Fatalf("%+v: stored %#v", d, q.peek())
		}
		got, err := q.CallMethod(ctx, "get", nil, nil)
		if err != nil || got != any(p) {
			t.Fatalf("%+v: get returned %#v, %v; want the stored Pickled", d, got, err)
		}
		for _, to := range []wireDialect{dialectPython2, dialectPython36, dialectPython38, {protocol: 5}} {
			st := replyEncPool.Get().(*replyEnc)
			spliced, err := st.marshal(to, pickle.Tuple{KindReturn, p})
			spliced = bytes.Clone(spliced)
			if err != nil {
				t.Fatal(err)
			}
			v, _ := p.Value()
			plain, _ := st.marshal(to, pickle.Tuple{KindReturn, v})
			if !bytes.Equal(spliced, plain) {
				t.Errorf("%+v -> %+v: reply\n%x, want\n%x", d, to, spliced, plain)
			}
			st.release()
		}
		// a Go getter and an XML-RPC client get the value
		for _, gctx := range []context.Context{context.Background(), servedCtx(dialectXMLRPC)} {
			if _, err := q.CallMethod(ctx, "put", pickle.Tuple{item}, nil); err != nil {
				t.Fatal(err)
			}
			v, err := q.CallMethod(gctx, "get_nowait", nil, nil)
			if _, isP := v.(pickle.Pickled); isP || err != nil || !pickle.Equal(v, item) {
				t.Errorf("%+v: get for %v = %#v, %v", d, gctx, v, err)
			}
		}
		if _, err := q.CallMethod(ctx, "put", pickle.Tuple{item}, nil); err != nil {
			t.Fatal(err)
		}
		if v, err := q.Get(context.Background()); err != nil || !pickle.Equal(v, item) {
			t.Errorf("%+v: Go Get = %#v, %v", d, v, err)
		}
	}
	q := NewQueue(0)
	// Go values stay as they are (identity included)
	l := pickle.NewList(int64(1))
	if err := q.Put(context.Background(), l); err != nil {
		t.Fatal(err)
	}
	if v, _ := q.GetNowait(); v != any(l) {
		t.Errorf("Go Put/Get gave %#v, want the same *List", v)
	}
	// XML-RPC puts stay values
	if _, err := q.CallMethod(servedCtx(dialectXMLRPC), "put", pickle.Tuple{l}, nil); err != nil {
		t.Fatal(err)
	}
	if v := q.peek(); v != any(l) {
		t.Errorf("XML-RPC put stored %#v", v)
	}
	q.items.reset()
	// an item holding a *Ref (a proxy of one of the server's objects) stays a value
	tab := newTable()
	var u user
	c := tab.register(NewValue("i", int64(1)), "Value", nil, nil, false, holder{u: &u}, newServerStats())
	e := tab.lookup(c.ident, nil)
	withRef := pickle.Tuple{tab.newRef(e, RebuildProxy{Token: Token{TypeID: "Value", ID: e.ident}}), int64(2)}
	if _, err := q.CallMethod(servedCtx(dialectPython38), "put", pickle.Tuple{withRef}, nil); err != nil {
		t.Fatal(err)
	}
	if _, ok := q.peek().(pickle.Tuple); !ok {
		t.Errorf("an item with a *Ref was stored as %#v", q.peek())
	}
}

// peek returns the oldest item as the queue stores it, leaving it there.
func (q *Queue) peek() any {
	q.mu.Lock()
	defer q.mu.Unlock()
	f := &q.items
	c := f.chunks[0][f.rpos:]
	size, k := binary.Uvarint(c)
	if size == 0 {
		return f.values[f.vhead]
	}
	p, err := pickle.ParsePickled(c[k : k+int(size)])
	if err != nil {
		panic(err)
	}
	return p
}

// TestItemFIFO: values and pickled items (small ones across chunk boundaries, one larger than a
// chunk) leave in the order they came, and the log's chunks are dropped as they are read.
func TestItemFIFO(t *testing.T) {
	var f itemFIFO
	big := make([]byte, logChunkSize+100)
	want := []any{}
	for round := range 3 {
		for i := range 5000 {
			var v any = pickle.Tuple{int64(i), fmt.Sprintf("task-%d", i), 1.5}
			switch {
			case i%7 == 3:
				v = pickle.NewList(int64(i)) // kept as a value
			case i == 2500:
				v = pickle.Tuple{big}
				fallthrough
			default:
				p, err := pickle.NewPickled(v, 2+i%4, i%4 == 0 && i != 2500)
				if err != nil {
					t.Fatal(err)
				}
				f.push(p)
				want = append(want, v)
				continue
			}
			f.push(v)
			want = append(want, v)
		}
		if f.len() != len(want) {
			t.Fatalf("len %d, want %d", f.len(), len(want))
		}
		for i, w := range want {
			v, err := f.pop()
			if err != nil {
				t.Fatal(err)
			}
			if p, ok := v.(pickle.Pickled); ok {
				if v, err = p.Value(); err != nil {
					t.Fatal(err)
				}
			} else if v != w {
				t.Fatalf("round %d item %d: %#v, want the same value %#v", round, i, v, w)
			}
			if !pickle.Equal(v, w) {
				t.Fatalf("round %d item %d: %.200s, want %.200s", round, i, pickle.Repr(v), pickle.Repr(w))
			}
		}
		if f.len() != 0 || len(f.chunks) != 1 || f.rpos != 0 || len(f.chunks[0]) != 0 {
			t.Fatalf("round %d: %d items left, %d chunks, read at %d", round, f.len(), len(f.chunks), f.rpos)
		}
		want = want[:0]
		if round == 1 {
			f.push(int64(1))
			f.reset()
		}
	}
}

// TestItemFIFOLargeAfterDrain: a record larger than a chunk, pushed once the log has been read
// to its end (its one chunk emptied for reuse), comes back; so do small ones after it.
func TestItemFIFOLargeAfterDrain(t *testing.T) {
	var f itemFIFO
	small := pickle.Tuple{int64(1), "x"}
	large := pickle.Tuple{string(make([]byte, 3*logChunkSize))}
	for _, v := range []any{small, large, large, small, large, small, small} {
		p, err := pickle.NewPickled(v, 4, false)
		if err != nil {
			t.Fatal(err)
		}
		f.push(p)
		got, err := f.pop()
		if err != nil {
			t.Fatal(err)
		}
		gv, err := got.(pickle.Pickled).Value()
		if err != nil || !pickle.Equal(gv, v) {
			t.Fatalf("got %.80s, %v; want %.80s", pickle.Repr(gv), err, pickle.Repr(v))
		}
		if f.len() != 0 || len(f.chunks) > 1 || (len(f.chunks) == 1 && cap(f.chunks[0]) > logChunkSize) {
			t.Fatalf("after a drain: %d items, %d chunks", f.len(), len(f.chunks))
		}
	}
}

// BenchmarkQueuePutGetReply is the server's side of a Python client's put and get of a small
// tuple, the get's reply pickled: "pickled" as served (the item kept pickled and spliced into
// the reply), "value" with the item kept as the decoded value and encoded for the reply (how
// items were kept before).
func BenchmarkQueuePutGetReply(b *testing.B) {
	item := pickle.Tuple{int64(123456), "task-123456", 1.5}
	for _, mode := range []string{"pickled", "value"} {
		b.Run(mode, func(b *testing.B) {
			q := NewQueue(0)
			ctx := servedCtx(dialectPython38)
			putCtx := ctx
			if mode == "value" {
				putCtx = context.Background()
			}
			args := pickle.Tuple{item}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := q.CallMethod(putCtx, "put", args, nil); err != nil {
					b.Fatal(err)
				}
				v, err := q.CallMethod(ctx, "get", nil, nil)
				if err != nil {
					b.Fatal(err)
				}
				st := replyEncPool.Get().(*replyEnc)
				if _, err := st.marshal(dialectPython38, st.replyTuple(Reply{Kind: KindReturn, Value: v})); err != nil {
					b.Fatal(err)
				}
				st.release()
			}
		})
	}
}
