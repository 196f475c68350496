package pickle

import (
	"fmt"
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
