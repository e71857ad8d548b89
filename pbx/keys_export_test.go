package pbx

import "switchboard/media"

// LegKeys is, for the tests of package pbx_test, keys() of a leg of the engine's only live
// call: the caller's or the answered callee's; with the presses the leg's keypad dropped
// so far. It returns nil when there is no such leg.
func LegKeys(e *Engine, caller bool) (keys <-chan media.Digit, dropped func() uint64) {
	calls := e.liveCalls()
	if len(calls) != 1 {
		return nil, nil
	}
	c := calls[0]
	c.mu.Lock()
	l := c.b
	if caller {
		l = c.a
	}
	c.mu.Unlock()
	if l == nil {
		return nil, nil
	}
	return l.keys(), l.keypad.dropped.Load
}
