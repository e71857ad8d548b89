package switchboard

import (
	"regexp"
	"testing"
	"time"
)

// Ordered ids keep the "prefix + 32 hex" form and sort in the order they were made (one
// millisecond apart), so that rows inserted together share index pages.
func TestNewOrderedID(t *testing.T) {
	form := regexp.MustCompile(`^msg_[0-9a-f]{32}$`)
	prev := ""
	seen := map[string]bool{}
	for range 5 {
		id := NewOrderedID("msg_")
		if !form.MatchString(id) || seen[id] {
			t.Fatalf("id %q: not prefix + 32 hex, or made twice", id)
		}
		if id <= prev {
			t.Fatalf("%q made after %q sorts before it", id, prev)
		}
		seen[id], prev = true, id
		time.Sleep(2 * time.Millisecond)
	}
}
