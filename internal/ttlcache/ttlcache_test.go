package ttlcache

import (
	"errors"
	"testing"
	"time"
)

func TestGetKeepsForTheTTLAndDeleteFuncDrops(t *testing.T) {
	now := time.Unix(1000, 0)
	c := New[string, int](time.Second, func() time.Time { return now })
	reads := 0
	read := func() (int, error) { reads++; return reads, nil }
	get := func(k string) int {
		v, err := c.Get(k, read)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for range 2 {
		if get("a") != 1 || reads != 1 {
			t.Fatalf("a fresh entry is read again: %d reads", reads)
		}
	}
	now = now.Add(time.Second)
	if get("a") != 2 {
		t.Fatalf("an expired entry is served: %d reads", reads)
	}
	get("b")
	c.DeleteFunc(func(k string, _ int) bool { return k == "a" })
	if get("a") != 4 || get("b") != 3 {
		t.Fatalf("DeleteFunc dropped the wrong entries: %d reads", reads)
	}
	if _, err := c.Get("c", func() (int, error) { return 0, errors.New("down") }); err == nil {
		t.Fatal("the read's error is not returned")
	}
	if get("c") != 5 {
		t.Fatal("an error was kept")
	}

	off := New[string, int](0, nil)
	off.Get("a", read)
	off.Get("a", read)
	if reads != 7 {
		t.Fatalf("a zero TTL keeps values: %d reads", reads)
	}
}
