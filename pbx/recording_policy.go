package pbx

import "switchboard"

// The recording settings of users, queues, numbers and accounts, read in one place.

func userRecordingPolicy(u *switchboard.User) string     { return "" }
func queueRecordingPolicy(q *switchboard.Queue) string   { return "" }
func numberRecordingPolicy(n *switchboard.Number) string { return "" }
func accountRecordingPolicy(a *switchboard.Account) string {
	return switchboard.RecordNone
}
func numberConsentPrompt(n *switchboard.Number) int64   { return 0 }
func accountConsentPrompt(a *switchboard.Account) int64 { return 0 }
