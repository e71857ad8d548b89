package storetest

import (
	"testing"

	"switchboard"
)

// Prompts round-trip, page, and are deleted returning their row (for the audio to go
// after); one account never reads or deletes another's; a bad prompt stores nothing.
func testPrompts(t *testing.T, f *fixture) {
	p := &switchboard.Prompt{AccountID: f.a.ID, Name: "Welcome", Source: switchboard.PromptSourceTTS, Text: "Welcome to Acme.",
		Voice: "en-us", Language: "en", Samples: 16000, Size: 32044, BlobKey: switchboard.AccountBlobKey(f.a.ID, "prompts", "k1.wav")}
	mustOK(t, f.db.CreatePrompt(f.ctx, p))
	if p.ID == 0 || p.CreatedAt.IsZero() {
		t.Fatalf("created %+v", p)
	}
	got, err := f.db.GetPrompt(f.ctx, f.a.ID, p.ID)
	mustOK(t, err)
	if d := diff(p, got); d != "" {
		t.Fatalf("GetPrompt (-want +got):\n%s", d)
	}
	wav := &switchboard.Prompt{AccountID: f.a.ID, Name: "Closed", Source: switchboard.PromptSourceWAV, Samples: 8,
		Size: 60, BlobKey: switchboard.AccountBlobKey(f.a.ID, "prompts", "k2.wav")}
	mustOK(t, f.db.CreatePrompt(f.ctx, wav))
	bp := &switchboard.Prompt{AccountID: f.b.ID, Name: "Welcome", Source: switchboard.PromptSourceMP3, Samples: 8,
		Size: 60, BlobKey: switchboard.AccountBlobKey(f.b.ID, "prompts", "k3.wav")}
	mustOK(t, f.db.CreatePrompt(f.ctx, bp))

	for _, bad := range []*switchboard.Prompt{
		{AccountID: f.a.ID, Name: "", Source: "wav", Samples: 1, BlobKey: "x"},
		{AccountID: f.a.ID, Name: "x", Source: "ogg", Samples: 1, BlobKey: "x"},
		{AccountID: f.a.ID, Name: "x", Source: "tts", Samples: 1, BlobKey: "x"},
		{AccountID: f.a.ID, Name: "x", Source: "wav", Samples: 0, BlobKey: "x"},
		{AccountID: f.a.ID, Name: "x", Source: "wav", Samples: 1, BlobKey: "../x"},
		{AccountID: f.a.ID, Name: "x", Source: "wav", Samples: 1, BlobKey: "x", Language: "English"},
	} {
		wantCode(t, f.db.CreatePrompt(f.ctx, bad), switchboard.EBADREQUEST)
	}
	wantCode(t, f.db.CreatePrompt(f.ctx, &switchboard.Prompt{AccountID: f.a.ID, Name: "dup", Source: "wav", Samples: 1,
		BlobKey: p.BlobKey}), switchboard.ECONFLICT)

	page, more, err := f.db.PagePrompts(f.ctx, f.a.ID, switchboard.Page{Limit: 1})
	mustOK(t, err)
	if !more || len(page) != 1 || page[0].ID != p.ID {
		t.Fatalf("first page: %+v more %v", page, more)
	}
	page, more, err = f.db.PagePrompts(f.ctx, f.a.ID, switchboard.Page{Limit: 1, After: p.ID})
	mustOK(t, err)
	if more || len(page) != 1 || page[0].ID != wav.ID {
		t.Fatalf("second page: %+v more %v", page, more)
	}

	// Another account's prompt is not found, for reading or deleting.
	_, err = f.db.GetPrompt(f.ctx, f.a.ID, bp.ID)
	wantCode(t, err, switchboard.ENOTFOUND)
	_, err = f.db.DeletePrompt(f.ctx, f.a.ID, bp.ID)
	wantCode(t, err, switchboard.ENOTFOUND)

	gone, err := f.db.DeletePrompt(f.ctx, f.a.ID, p.ID)
	mustOK(t, err)
	if d := diff(p, gone); d != "" {
		t.Fatalf("DeletePrompt returned (-want +got):\n%s", d)
	}
	_, err = f.db.GetPrompt(f.ctx, f.a.ID, p.ID)
	wantCode(t, err, switchboard.ENOTFOUND)
	_, err = f.db.DeletePrompt(f.ctx, f.a.ID, p.ID)
	wantCode(t, err, switchboard.ENOTFOUND)
	if _, err := f.db.GetPrompt(f.ctx, f.b.ID, bp.ID); err != nil {
		t.Fatalf("B's prompt after A's deletes: %v", err)
	}
}

// Accounts default to English and keep a language set; numbers keep theirs ("" = the
// account's); a tag that is no language is refused.
func testLanguages(t *testing.T, f *fixture) {
	a, err := f.db.GetAccount(f.ctx, f.a.ID)
	mustOK(t, err)
	if a.Language != switchboard.DefaultLanguage {
		t.Fatalf("a new account's language: %q", a.Language)
	}
	a.Language = "de"
	mustOK(t, f.db.UpdateAccount(f.ctx, a))
	a, err = f.db.GetAccount(f.ctx, f.a.ID)
	mustOK(t, err)
	if a.Language != "de" {
		t.Fatalf("after setting de: %q", a.Language)
	}
	a.Language = "German"
	wantCode(t, f.db.UpdateAccount(f.ctx, a), switchboard.EBADREQUEST)

	n := newNumber(f.a.ID, "+15557654321")
	n.Language = "pt-BR"
	f.number(t, n)
	got, err := f.db.GetNumber(f.ctx, f.a.ID, n.ID)
	mustOK(t, err)
	if got.Language != "pt-BR" {
		t.Fatalf("number language %q", got.Language)
	}
	_, err = f.db.UpdateNumberFunc(f.ctx, f.a.ID, n.ID, func(n *switchboard.Number) error { n.Language = ""; return nil })
	mustOK(t, err)
	got, err = f.db.GetNumber(f.ctx, f.a.ID, n.ID)
	mustOK(t, err)
	if got.Language != "" {
		t.Fatalf("number language after clearing: %q", got.Language)
	}
	bad := newNumber(f.a.ID, "+15557654322")
	bad.Language = "../en"
	wantCode(t, f.db.CreateNumber(f.ctx, bad), switchboard.EBADREQUEST)
}
