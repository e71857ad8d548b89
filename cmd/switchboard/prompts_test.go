package main

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"switchboard/internal/tstest"
)

// serve stores uploaded prompts under DATA/blobs; with --espeak pointing at nothing, text
// prompts answer 503 naming espeak-ng and the system prompts play tones, and the server
// starts and stops cleanly.
func TestServePromptsWithoutEspeak(t *testing.T) {
	dir := t.TempDir()
	m, _, stop := startServe(t, "--demo", "--data", dir, "--http", "127.0.0.1:0", "--espeak", filepath.Join(dir, "no-espeak-ng"))
	b, err := os.ReadFile(filepath.Join(dir, "demo.json"))
	if err != nil {
		t.Fatal(err)
	}
	var demo demoFile
	if err := json.Unmarshal(b, &demo); err != nil {
		t.Fatal(err)
	}
	base := m.HTTPURL() + "/v3/voice/61"
	post := func(url, ct, body string) (int, string) {
		req, _ := http.NewRequest("POST", url, strings.NewReader(body))
		req.Header.Set("X-API-Key", demo.DeveloperKey)
		req.Header.Set("Content-Type", ct)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var env struct{ Message string }
		json.NewDecoder(resp.Body).Decode(&env)
		return resp.StatusCode, env.Message
	}
	if status, msg := post(base+"/prompts", "application/json", `{"name":"hi","text":"Hello"}`); status != 503 || !strings.Contains(msg, "espeak-ng") {
		t.Fatalf("text prompt without espeak-ng: %d %q", status, msg)
	}
	wav := tstest.WAV(8000, 1, tstest.Sine(8000, 4000, 8000, 440))
	if status, msg := post(base+"/prompts?name=hello", "audio/wav", string(wav)); status != 201 {
		t.Fatalf("upload: %d %q", status, msg)
	}
	matches, _ := filepath.Glob(filepath.Join(dir, "blobs", "accounts", "61", "prompts", "*.wav"))
	if len(matches) != 1 {
		t.Fatalf("stored prompt files: %v", matches)
	}
	var list struct {
		Result []struct{ Name, Source string }
	}
	if status := getJSON(t, http.DefaultClient, base+"/prompts/system", demo.DeveloperKey, &list); status != 200 || len(list.Result) == 0 {
		t.Fatalf("system prompts: %d %v", status, list.Result)
	}
	for _, p := range list.Result {
		if p.Source != "tones" {
			t.Fatalf("without espeak-ng %s plays %s", p.Name, p.Source)
		}
	}
	if err := stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
}
