package api

import (
	"context"
	"encoding/json"
	"net/http"

	"switchboard"
)

// A call's transcripts: what the transcription queue (transcribe/) stored for each of the
// call's recordings, with the call analytics in the shape of Voice360's
// TRANSCRIPTION_FINISHED (docs/transcription.md).

// TranscriptReader reads transcripts (store.DB implements it); Config.Transcripts.
type TranscriptReader interface {
	GetCallTranscripts(ctx context.Context, accountID int64, callID string) ([]*switchboard.Transcript, error)
}

type transcriptJSON struct {
	RecordingID string          `json:"recording_id" doc:"The recording transcribed"`
	Engine      string          `json:"engine" doc:"The engine that transcribed it: openai or sherpa"`
	Model       string          `json:"model" doc:"The engine's model"`
	Language    string          `json:"language" doc:"BCP 47 language code"`
	TotalTokens int             `json:"total_tokens" doc:"Tokens the speech and chat services billed, where they say"`
	Redactions  int             `json:"redactions" doc:"Card numbers, national ids, bank accounts and emails masked"`
	CreatedAt   string          `json:"created_at" doc:"When the transcript was stored (RFC 3339, UTC)"`
	Analytics   json.RawMessage `json:"analytics" doc:"The call analytics: Voice360 TRANSCRIPTION_FINISHED's transcription document (Transcript, AgentTranscript, CustomerTranscript, ConversationCharacteristics, ContactSummary, CallRecap…), as an object"`
}

type callTranscriptsJSON struct {
	CallID      string           `json:"call_id" doc:"The call's unique id"`
	Transcripts []transcriptJSON `json:"transcripts" doc:"One per transcribed recording of the call, oldest first"`
}

func (s *Server) transcriptRoutes() {
	s.handleAPI(route{Method: "GET", Path: "/calls/{call_id}/transcript", Access: accessDeveloper, Tag: "Call records",
		Summary: "Get a call's transcript and analytics",
		Description: "The transcript of each of the call's recordings with its call analytics (turns with offsets, per-channel " +
			"transcripts, talk time, non-talk time, interruptions, talk speed, sentiment, summary and recap), as the " +
			"TRANSCRIPTION_FINISHED webhook carries it. Personal data is already masked when the account redacts. " +
			"404 NOT_FOUND: no such call in this account, or nothing transcribed yet.",
		Message: "Call transcript", Result: callTranscriptsJSON{}, Needs: needsTranscripts}, s.getCallTranscript)
}

func (s *Server) getCallTranscript(w http.ResponseWriter, r *http.Request, c *caller) error {
	callID := r.PathValue("call_id")
	ts, err := s.transcripts.GetCallTranscripts(r.Context(), c.accountID, callID)
	if err != nil {
		return err
	}
	out := callTranscriptsJSON{CallID: callID, Transcripts: make([]transcriptJSON, 0, len(ts))}
	for _, t := range ts {
		out.Transcripts = append(out.Transcripts, transcriptJSON{RecordingID: t.RecordingID, Engine: t.Engine, Model: t.Model,
			Language: t.Language, TotalTokens: t.TotalTokens, Redactions: t.Redactions,
			CreatedAt: t.CreatedAt.UTC().Format("2006-01-02T15:04:05.000Z"), Analytics: json.RawMessage(t.Analytics)})
	}
	s.writeResult(w, http.StatusOK, "Call transcript", out)
	return nil
}
