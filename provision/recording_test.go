package provision_test

import (
	"strings"
	"testing"

	"switchboard"
)

// Transcription can be enabled only when the transcription service says nothing is
// missing; until then the refusal names what is missing and nothing changes. Turning it
// off always works.
func TestTranscriptionNeedsAnEngine(t *testing.T) {
	f := newFixture(t)
	on, off := true, false
	_, err := f.svc.UpdateAccount(f.ctx, f.a, switchboard.AccountChange{TranscriptionEnabled: &on})
	if d := details(t, err); !strings.Contains(d["transcription_enabled"], "no transcription engine") {
		t.Fatalf("without a service: %v", err)
	}
	f.svc.SetTranscriptionCheck(func() string { return "--transcribe-openai-url is not set" })
	_, err = f.svc.UpdateAccount(f.ctx, f.a, switchboard.AccountChange{TranscriptionEnabled: &on, RedactionEnabled: &on})
	if d := details(t, err); !strings.Contains(d["transcription_enabled"], "--transcribe-openai-url") {
		t.Fatalf("with a missing setting: %v", err)
	}
	if a, _ := f.st.GetAccount(f.ctx, f.a); a.TranscriptionEnabled || a.RedactionEnabled {
		t.Fatalf("a refused change wrote: %+v", a)
	}
	f.svc.SetTranscriptionCheck(func() string { return "" })
	a, err := f.svc.UpdateAccount(f.ctx, f.a, switchboard.AccountChange{TranscriptionEnabled: &on})
	must(t, err)
	if !a.TranscriptionEnabled {
		t.Fatal("not enabled")
	}
	f.svc.SetTranscriptionCheck(nil)
	a, err = f.svc.UpdateAccount(f.ctx, f.a, switchboard.AccountChange{TranscriptionEnabled: &off})
	must(t, err)
	if a.TranscriptionEnabled {
		t.Fatal("not disabled")
	}
}
