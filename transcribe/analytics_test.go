package transcribe

import (
	"context"
	"testing"
	"time"

	"switchboard/internal/tstest"
)

func TestAnalyticsMeasures(t *testing.T) {
	in := callInput{AccountID: 7, CallID: "1.2", Language: "en-US", DurationMs: 30000,
		Agent: []Segment{{Start: 0, End: 4, Text: "Thanks for calling, how can I help?"},
			{Start: 6, End: 12, Text: "I will send the new invoice today."}},
		Customer: []Segment{{Start: 4.5, End: 7, Text: "My bill is wrong and I am upset."},
			{Start: 20, End: 22, Text: "Great, thank you."}},
		CompletedAt: time.Date(2026, 5, 20, 18, 30, 0, 0, time.UTC)}
	ts := turns(in)
	ins, _ := Local{}.Analyze(context.Background(), ts)
	a := buildAnalytics(in, ts, ins)
	cc := a.ConversationCharacteristics
	if cc.TalkTime.DetailsByParticipant[RoleAgent].TotalTimeMillis != 10000 || cc.TalkTime.DetailsByParticipant[RoleCustomer].TotalTimeMillis != 4500 {
		t.Errorf("talk time %+v", cc.TalkTime)
	}
	// Speech covers 0-4, 4.5-12 and 20-22 s: 13.5 s of 30; the gaps of 3 s or more are 12-20 and 22-30.
	if cc.TalkTime.TotalTimeMillis != 13500 || cc.NonTalkTime.TotalTimeMillis != 16500 || len(cc.NonTalkTime.Instances) != 2 {
		t.Errorf("talk %d, non-talk %+v", cc.TalkTime.TotalTimeMillis, cc.NonTalkTime)
	}
	// The agent's second turn (6 s) starts while the customer (4.5-7 s) speaks, not in its last half second.
	if cc.Interruptions.TotalCount != 1 || len(cc.Interruptions.InterruptionsByInterrupter[RoleAgent]) != 1 {
		t.Errorf("interruptions %+v", cc.Interruptions)
	}
	if wpm := cc.TalkSpeed.DetailsByParticipant[RoleAgent].AverageWordsPerMinute; wpm != 84 { // 14 words in 10 s
		t.Errorf("agent talk speed %d wpm", wpm)
	}
	if s := cc.Sentiment.OverallSentiment[RoleCustomer]; s >= 0 {
		t.Errorf("customer sentiment %v: upset then thankful, weighted by time, should be negative", s)
	}
	if a.Transcript[1].Sentiment != "NEGATIVE" || a.Transcript[2].ParticipantRole != RoleAgent {
		t.Errorf("turns %+v", a.Transcript)
	}
	if len(ins.ActionItems) != 1 || ins.ActionItems[0] != "I will send the new invoice today." {
		t.Errorf("action items %q", ins.ActionItems)
	}
	if a.CompletedAt != "2026-05-20T18:30:00.000000Z" || a.Transcript[0].ID == a.Transcript[1].ID || len(a.Transcript[0].ID) != 36 {
		t.Errorf("completed %q ids %q %q", a.CompletedAt, a.Transcript[0].ID, a.Transcript[1].ID)
	}
}

func TestSpeechRegions(t *testing.T) {
	// 1 s silence, 2 s tone, 0.3 s silence, 1 s tone, 2 s silence, 1 s tone.
	var s []int16
	add := func(sec float64, tone bool) {
		n := int(sec * 8000)
		if tone {
			s = append(s, tstest.Sine(8000, n, 5000, 300)...)
		} else {
			s = append(s, make([]int16, n)...)
		}
	}
	add(1, false)
	add(2, true)
	add(0.3, false)
	add(1, true)
	add(2, false)
	add(1, true)
	r := speechRegions(s, 8000, 8000*28)
	if len(r) != 2 {
		t.Fatalf("regions %v, want two (the 0.3 s gap bridged)", r)
	}
	if r[0].start != 8000-800 || r[0].end < 8000*43/10 || r[1].start > 8000*63/10 {
		t.Errorf("regions %v", r)
	}
	if got := speechRegions(s, 8000, 8000); len(got) != 6 { // 3.5 s cut in four, 1.1 s in two
		t.Errorf("with 1 s regions: %v", got)
	}
}
