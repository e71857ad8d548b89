// Package tstest is the test kit every package of Switchboard shares: a clock that tests move
// by hand, a goroutine leak check, a poll-until helper and loopback ports that no other test
// or the kernel hands out at the same time.
//
// It is imported only from _test.go files and from internal/testpeer.
package tstest
