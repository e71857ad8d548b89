package main

import (
	"bufio"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestServeStreamsEventsAndStopsWithStreamsOpen: the served binary's event stream carries
// an event the API caused, and stopping the server ends the open stream instead of waiting
// for it: the HTTP shutdown would otherwise run out of --shutdown-timeout and Run return
// its error.
func TestServeStreamsEventsAndStopsWithStreamsOpen(t *testing.T) {
	dir := t.TempDir()
	m, _, stop := startServe(t, "--data", dir, "--http", "127.0.0.1:0", "--demo", "--shutdown-timeout", "5s")
	raw, err := os.ReadFile(filepath.Join(dir, "demo.json"))
	if err != nil {
		t.Fatal(err)
	}
	var demo demoFile
	if err := json.Unmarshal(raw, &demo); err != nil {
		t.Fatal(err)
	}
	base := m.HTTPURL() + "/v3/voice/" + strconv.FormatInt(demo.AccountID, 10)
	req, _ := http.NewRequest("GET", base+"/events/stream?events=contact.*", nil)
	req.Header.Set("X-API-Key", demo.DeveloperKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("stream: %s", resp.Status)
	}
	lines := make(chan string, 16)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	post, _ := http.NewRequest("POST", base+"/contacts", strings.NewReader(`{"phone":"+14155550123","first_name":"Ada"}`))
	post.Header.Set("X-API-Key", demo.DeveloperKey)
	post.Header.Set("Content-Type", "application/json")
	pr, err := http.DefaultClient.Do(post)
	if err != nil {
		t.Fatal(err)
	}
	pr.Body.Close()
	for got := false; !got; {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("the stream ended before the event")
			}
			got = l == "event: contact.created"
		case <-time.After(20 * time.Second):
			t.Fatal("no contact.created on the stream")
		}
	}
	if err := stop(); err != nil {
		t.Fatalf("stop with a stream open: %v", err)
	}
	for range lines { // the stream has ended
	}
}
