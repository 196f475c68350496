package pickle

import (
	"encoding/json"
	"fmt"
	"testing"
)

func TestFormat(t *testing.T) {
	d := NewDict()
	_ = d.Set("id", int64(1))
	nd := NewDict()
	_ = nd.Set(int64(1), "one")
	var nilList *List
	tests := []struct {
		v          any
		str, jsons string
	}{
		{d, "{'id': 1}", `{"id":1}`},
		{nd, "{1: 'one'}", `{"$dict":[[1,"one"]]}`},
		{NewList("a", 1.5), "['a', 1.5]", `["a",1.5]`},
		{Tuple{int64(1)}, "(1,)", `[1]`},
		{mustSet(int64(2)), "{2}", `{"$set":[2]}`},
		{mustFrozen(), "frozenset()", `{"$frozenset":[]}`},
		{ByteArray("a"), "bytearray(b'a')", `{"$bytearray":"YQ=="}`},
		{&Object{Class: Global{"__main__", "Point"}, Kind: BuildNewObj, Args: Tuple{int64(5), int64(6)}}, "__main__.Point(5, 6)",
			`{"$class":"__main__.Point","build":"newobj","args":[5,6]}`},
		{Py2Int(1 << 40), "1099511627776", "1099511627776"},
		{Py2Long(5), "5", "5"},
		{nilList, "<nil>", "null"},
	}
	for _, tc := range tests {
		if got := fmt.Sprint(tc.v); got != tc.str {
			t.Errorf("Sprint(%#v) = %s want %s", tc.v, got, tc.str)
		}
		j, err := json.Marshal(tc.v)
		if err != nil || string(j) != tc.jsons {
			t.Errorf("json.Marshal(%s) = %s, %v want %s", Repr(tc.v), j, err, tc.jsons)
		}
	}
}
