package pbx

import (
	"errors"
	"strconv"
	"testing"
)

// The park lot: 700 takes the first free slot of the account, 701 to 720; with all twenty
// taken a park is refused 486, and another account's lot is its own.
func TestParkLotFillsAndRefusesWhenFull(t *testing.T) {
	e := &Engine{}
	acct1, acct2 := &call{e: e, callInfo: callInfo{accountID: 1}}, &call{e: e, callInfo: callInfo{accountID: 2}}
	for n := parkFirst; n <= parkLast; n++ {
		slot, err := e.reservePark(acct1, "700")
		if err != nil || slot != strconv.Itoa(n) {
			t.Fatalf("park %d: slot %q, %v; want %d", n, slot, err, n)
		}
	}
	var r *refusal
	if _, err := e.reservePark(acct1, "700"); !errors.As(err, &r) || r.code != 486 {
		t.Errorf("parking into the full lot: %v; want 486", err)
	}
	if _, err := e.reservePark(acct1, "705"); !errors.As(err, &r) || r.code != 486 {
		t.Errorf("parking into a taken slot: %v; want 486", err)
	}
	if slot, err := e.reservePark(acct2, "700"); err != nil || slot != "701" {
		t.Errorf("another account's first park: %q, %v; want 701", slot, err)
	}
	e.freePark(parkKey{1, "705"}, acct1)
	if slot, err := e.reservePark(acct1, "700"); err != nil || slot != "705" {
		t.Errorf("after 705 was freed: %q, %v; want 705", slot, err)
	}
	if e.isParkSlot("721") || e.isParkSlot("0701") || !e.isParkSlot("700") {
		t.Error("isParkSlot misreads the lot")
	}
}
