package pickle

import (
	"fmt"
	"math/big"
	"math/rand/v2"
	"testing"
)

func TestDict(t *testing.T) {
	d := NewDict()
	if err := d.Set(int64(1), "one"); err != nil {
		t.Fatal(err)
	}
	_ = d.Set("b", "B")
	_ = d.Set(1.0, "uno") // same key as 1: keeps the position and the original key
	_ = d.Set(Tuple{int64(1), "x"}, "t")
	if d.Len() != 3 {
		t.Fatalf("len %d", d.Len())
	}
	if got := Repr(d); got != "{1: 'uno', 'b': 'B', (1, 'x'): 't'}" {
		t.Errorf("got %s", got)
	}
	if v, ok := d.Get(true); !ok || v != "uno" {
		t.Errorf("Get(True) = %v %v", v, ok)
	}
	if _, ok := d.Get(NewList()); ok {
		t.Error("unhashable key found")
	}
	if _, _, err := d.Lookup(NewList()); err == nil || err.Error() != "unhashable type: 'list'" {
		t.Errorf("Lookup(list): %v", err)
	}
	if err := d.Set(NewDict(), 1); err == nil {
		t.Error("unhashable key set")
	}
	if v, ok, _ := d.Pop("b"); !ok || v != "B" {
		t.Errorf("Pop = %v %v", v, ok)
	}
	if _, ok, _ := d.Pop("b"); ok {
		t.Error("popped twice")
	}
	it, ok := d.PopItem()
	if !ok || !Equal(it.Key, Tuple{int64(1), "x"}) {
		t.Errorf("PopItem = %v", it)
	}
	c := d.Copy()
	d.Clear()
	if d.Len() != 0 || c.Len() != 1 {
		t.Errorf("Clear/Copy: %d %d", d.Len(), c.Len())
	}
	var zero Dict
	_ = zero.Set("x", 1)
	if zero.Len() != 1 {
		t.Error("zero Dict unusable")
	}
}

func TestDictLarge(t *testing.T) {
	d := NewDict()
	const n = 5000
	for i := 0; i < n; i++ {
		_ = d.Set(int64(i), i)
		_ = d.Set(fmt.Sprint(i), i)
	}
	for i := 0; i < n; i += 2 {
		if _, ok, _ := d.Pop(float64(i)); !ok {
			t.Fatalf("pop %d", i)
		}
	}
	if d.Len() != n+n/2 {
		t.Fatalf("len %d", d.Len())
	}
	for i := 0; i < n; i++ {
		v, ok := d.Get(int64(i))
		if ok != (i%2 == 1) || ok && v != i {
			t.Fatalf("get %d: %v %v", i, v, ok)
		}
		if v, ok := d.Get(fmt.Sprint(i)); !ok || v != i {
			t.Fatalf("get %q", fmt.Sprint(i))
		}
	}
	keys := d.Keys()
	if keys[0] != "0" || keys[1] != int64(1) || len(keys) != d.Len() || len(d.Values()) != d.Len() || len(d.Items()) != d.Len() {
		t.Errorf("keys %v...", keys[:3])
	}
	n2 := 0
	d.Range(func(k, v any) bool { n2++; return n2 < 10 })
	if n2 != 10 {
		t.Errorf("range stopped at %d", n2)
	}
}

func TestSets(t *testing.T) {
	s, err := NewSet(int64(1), 1.0, true, "a", Tuple{})
	if err != nil {
		t.Fatal(err)
	}
	if s.Len() != 3 {
		t.Errorf("len %d", s.Len())
	}
	if ok, _ := s.Has(1.0); !ok {
		t.Error("Has(1.0)")
	}
	if _, err := s.Has(NewList()); err == nil {
		t.Error("Has(list)")
	}
	if ok, _ := s.Remove("a"); !ok {
		t.Error("Remove")
	}
	if _, err := NewSet(NewList()); err == nil {
		t.Error("unhashable member")
	}
	f := s.Frozen()
	if !Equal(f, s) || f.Len() != 2 {
		t.Error("Frozen")
	}
	fs, _ := NewFrozenSet(int64(1), int64(2))
	fs2, _ := NewFrozenSet(int64(2), int64(1))
	h1, _ := Hash(fs)
	h2, _ := Hash(fs2)
	if h1 != h2 || !Equal(fs, fs2) {
		t.Error("frozenset hash/equality depends on order")
	}
	d := NewDict()
	_ = d.Set(fs, "x")
	if v, ok := d.Get(fs2); !ok || v != "x" {
		t.Error("frozenset key")
	}
	var zero FrozenSet
	if zero.Len() != 0 || len(zero.Items()) != 0 {
		t.Error("zero FrozenSet")
	}
	if ok, _ := zero.Has(int64(1)); ok {
		t.Error("zero FrozenSet has 1")
	}
}

// TestTableModel drives a Dict and a Set through random operations that
// cross the small/indexed boundary (smallTable) both ways, comparing every
// step with a plain model (a slice searched with Equal).
func TestTableModel(t *testing.T) {
	big1 := new(big.Int).Lsh(big.NewInt(1), 70)
	big2 := new(big.Int).Lsh(big.NewInt(1), 70)
	pool := []any{nil, true, false, int64(0), int64(1), 1.0, 0.0, int64(2), 2.5, "a", "b", "", Py2String("a"),
		[]byte("a"), Tuple{}, Tuple{int64(1), "x"}, Tuple{1.0, "x"}, big1, big2, complex(1, 0), Global{"m", "n"},
		int64(-1), int64(-2)} // hash(-1) == hash(-2), as in CPython: one chain
	for i := range 40 {
		pool = append(pool, fmt.Sprint("k", i), int64(100+i))
	}
	type kv struct{ k, v any }
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 200 {
		d, s := NewDict(), &Set{}
		var model []kv
		where := func(k any) int {
			for i, e := range model {
				if Equal(e.k, k) {
					return i
				}
			}
			return -1
		}
		limit := 1 + rng.IntN(70)
		for step := range 400 {
			k := pool[rng.IntN(len(pool))]
			op := rng.IntN(10)
			if step/100%2 == 1 { // a draining phase: mostly removals
				op = (op + 5) % 10
			}
			switch {
			case op < 5 && len(model) < limit:
				if err := d.Set(k, step); err != nil {
					t.Fatal(err)
				}
				if err := s.Add(k); err != nil {
					t.Fatal(err)
				}
				if i := where(k); i >= 0 {
					model[i].v = step
				} else {
					model = append(model, kv{k, step})
				}
			case op < 8:
				v, ok, err := d.Pop(k)
				sok, serr := s.Remove(k)
				i := where(k)
				if err != nil || serr != nil || ok != (i >= 0) || sok != ok || ok && v != model[i].v {
					t.Fatalf("round %d step %d: Pop(%s) = %v %v %v, model %d", round, step, Repr(k), v, ok, err, i)
				}
				if i >= 0 {
					model = append(model[:i], model[i+1:]...)
				}
			case op < 9:
				it, ok := d.PopItem()
				if ok != (len(model) > 0) || ok && (!Equal(it.Key, model[len(model)-1].k) || it.Value != model[len(model)-1].v) {
					t.Fatalf("round %d step %d: PopItem = %v %v", round, step, it, ok)
				}
				if ok {
					if r, _ := s.Remove(it.Key); !r {
						t.Fatalf("set lacks %s", Repr(it.Key))
					}
					model = model[:len(model)-1]
				}
			case rng.IntN(10) == 0: // rarely, so that removed entries pile up
				c := d.Copy()
				if !Equal(c, d) || c.Len() != d.Len() {
					t.Fatalf("round %d step %d: copy differs", round, step)
				}
				d = c
				s = s.Copy()
			}
			if d.Len() != len(model) || s.Len() != len(model) {
				t.Fatalf("round %d step %d: len %d/%d, model %d", round, step, d.Len(), s.Len(), len(model))
			}
			items := d.Items()
			for i, e := range model {
				if !Equal(items[i].Key, e.k) || items[i].Value != e.v {
					t.Fatalf("round %d step %d: item %d = %v, model %v", round, step, i, items[i], e)
				}
				if v, ok := d.Get(e.k); !ok || v != e.v {
					t.Fatalf("round %d step %d: Get(%s) = %v %v", round, step, Repr(e.k), v, ok)
				}
				if ok, _ := s.Has(e.k); !ok {
					t.Fatalf("round %d step %d: set lacks %s", round, step, Repr(e.k))
				}
			}
			// a frozenset hashes and compares the same whatever its size
			// history and order
			keys := s.Items()
			rng.Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
			f2, err := NewFrozenSet(keys...)
			if err != nil {
				t.Fatal(err)
			}
			f1 := s.Frozen()
			h1, _ := Hash(f1)
			h2, _ := Hash(f2)
			if h1 != h2 || !Equal(f1, f2) || !Equal(s, f2) {
				t.Fatalf("round %d step %d: frozenset hash/equality differ", round, step)
			}
		}
	}
}
