package sip

import (
	"testing"

	"switchboard"
)

// BenchmarkSMSAfterRegister is what the messaging hook adds to each REGISTER of a user with
// nothing pending (the common case: a refresh), among 100,000 users who registered before;
// the baseline is the same server without a messaging service.
func BenchmarkSMSAfterRegister(b *testing.B) {
	run := func(b *testing.B, phone switchboard.PhoneSMS) {
		s := &Server{}
		s.SetPhoneSMS(phone)
		const users = 100_000
		for i := range users {
			s.smsDue(userKey{1, int64(i)}) // each user's first REGISTER since the start
		}
		dev := &switchboard.Device{AccountID: 1}
		bs := []binding{{uri: "sip:x@127.0.0.1"}}
		b.ResetTimer()
		for i := 0; b.Loop(); i++ {
			dev.UserID = int64(i % users)
			s.smsAfterRegister(dev, bs)
		}
	}
	b.Run("without-sms", func(b *testing.B) { run(b, nil) })
	b.Run("with-sms", func(b *testing.B) { run(b, &fakePhoneSMS{}) })
}
