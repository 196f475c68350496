package main

import "testing"

// TestLedger checks the accounting rules on a hand-made history.
func TestLedger(t *testing.T) {
	l := newLedger()
	// Acknowledged and got once: fine. Lines of different clients arrive in any order.
	l.got("p1:2")
	l.acked("p1:1")
	l.acked("p1:2")
	l.got("p1:1")
	// Acknowledged, never got: lost.
	l.acked("p1:3")
	// Tried (victim killed before ACK): absent or got once are both fine.
	l.tried("v7:1")
	l.tried("v7:2")
	l.got("v7:2")
	// A victim's TRY then ACK is an acknowledged put.
	l.tried("v8:1")
	l.acked("v8:1")
	l.got("v8:1")
	// Got twice: duplicated.
	l.acked("g3:1")
	l.got("g3:1")
	l.got("g3:1")
	// Never put, or not an item at all: unknown.
	l.got("g3:5")
	l.got("garbage")
	// The victims' queue: one lost item, within the in-flight allowance.
	l.acked(feederID + ":1")
	l.acked(feederID + ":2")
	l.got(feederID + ":2")

	a := l.check(1)
	want := accounting{Acked: 7, TriedOnly: 2, TriedDelivered: 1, Got: 8, Lost: 1, LostVictimQueue: 1, InFlightAtKill: 1, Duplicated: 1, Unknown: 2}
	if a.Acked != want.Acked || a.TriedOnly != want.TriedOnly || a.TriedDelivered != want.TriedDelivered || a.Got != want.Got ||
		a.Lost != want.Lost || a.LostVictimQueue != want.LostVictimQueue || a.InFlightAtKill != want.InFlightAtKill ||
		a.Duplicated != want.Duplicated || a.Unknown != want.Unknown {
		t.Fatalf("check = %+v\nwant    %+v", a, want)
	}
	if len(a.LostExamples) != 2 || a.LostExamples[0] != "f:1" || a.LostExamples[1] != "p1:3" {
		t.Errorf("lost examples %q", a.LostExamples)
	}
	r := &report{Accounting: a, ServerAlive: true, Baseline: resources{Goroutines: -1}, Final: resources{Goroutines: -1}}
	r.judge()
	if r.Pass || len(r.Reasons) != 3 {
		t.Errorf("judge: pass %v, reasons %q (want lost, duplicated and unknown)", r.Pass, r.Reasons)
	}
}
