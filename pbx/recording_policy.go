package pbx

import "switchboard"

// The recording settings of users, queues, numbers and accounts, read in one place.

func userRecordingPolicy(u *switchboard.User) string       { return u.Recording }
func queueRecordingPolicy(q *switchboard.Queue) string     { return q.Recording }
func numberRecordingPolicy(n *switchboard.Number) string   { return n.Recording }
func accountRecordingPolicy(a *switchboard.Account) string { return a.RecordingPolicy() }
func numberConsentPrompt(n *switchboard.Number) int64      { return n.RecordingConsentPromptID }
func accountConsentPrompt(a *switchboard.Account) int64    { return a.RecordingConsentPromptID }
