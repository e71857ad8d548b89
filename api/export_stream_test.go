package api

import "time"

// SetStreamKeyCheck sets how often open event streams check their key, until the returned
// function restores it.
func SetStreamKeyCheck(d time.Duration) (restore func()) {
	old := streamKeyCheck
	streamKeyCheck = d
	return func() { streamKeyCheck = old }
}
