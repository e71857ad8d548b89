package transcribe

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"time"
)

// Analyzer scores each turn's sentiment and writes the recap. Chat asks an
// OpenAI-compatible chat-completions endpoint; Local computes it from the words alone.
type Analyzer interface {
	Name() string
	Analyze(ctx context.Context, ts []Turn) (*Insights, error)
}

// Local is the analyzer without a language model: a lexicon sentiment scorer (with
// negation) and an extractive summary (the turns whose words recur most in the call). It
// never invents: the summary is sentences said in the call, the outcome is "unknown" unless
// the words say it, action items are the agent's own promises.
type Local struct{}

// Name implements Analyzer.
func (Local) Name() string { return "local" }

var (
	positiveWords = wordSet(`good great excellent thanks thank perfect happy glad appreciate helpful
		resolved fixed wonderful awesome love pleased fine sure absolutely welcome nice brilliant correct
		works working solved easy fantastic yes okay ok lovely satisfied`)
	negativeWords = wordSet(`bad terrible awful angry upset problem issue broken wrong frustrated
		frustrating annoyed disappointed cancel complaint worse worst hate useless slow error failed fail
		fails failing unhappy poor charged overcharged never late missing confused confusing`)
	negators  = wordSet(`not no never don't doesn't didn't isn't wasn't aren't can't cannot won't`)
	stopWords = wordSet(`a an the and or but if then so to of in on at for with from by about as is are
		was were be been being am i you he she it we they me him her us them my your his its our their this
		that these those there here what which who whom how when where why do does did have has had having
		will would can could should shall may might must not no yes okay ok just also very really please
		thanks thank hi hello hey um uh well like get got let i'm you're it's that's there's can't don't
		i'll we'll i've one two three four five six seven eight nine zero call calling`)
	wordSplit   = regexp.MustCompile(`[a-z']+`)
	sentenceEnd = regexp.MustCompile(`[^.!?]+[.!?]*`)
	promiseRe   = regexp.MustCompile(`(?i)\b(i'll|i will|we'll|we will|let me|i'm going to|i am going to)\b`)
	resolvedRe  = regexp.MustCompile(`(?i)\b(resolved|fixed|sorted|solved|all set|that's all|that works|done)\b`)
	followUpRe  = regexp.MustCompile(`(?i)\b(call (you )?back|follow up|escalat\w*|get back to you)\b`)
)

var roleWords = map[string]string{RoleAgent: "Agent", RoleCustomer: "Customer"}

func wordSet(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(s) {
		m[w] = true
	}
	return m
}

func words(s string) []string { return wordSplit.FindAllString(strings.ToLower(s), -1) }

// lexiconScore is (positive - negative) / (positive + negative + 1), a negator flipping the
// next two words: -1..1, 0 for a turn with no opinion words.
func lexiconScore(text string) float64 {
	pos, neg, flip := 0.0, 0.0, 0
	for _, w := range words(text) {
		if negators[w] {
			flip = 2
			continue
		}
		p, n := positiveWords[w], negativeWords[w]
		if flip > 0 {
			p, n = n, p
			flip--
		}
		if p {
			pos++
		}
		if n {
			neg++
		}
	}
	return round2((pos - neg) / (pos + neg + 1))
}

// Analyze implements Analyzer.
func (Local) Analyze(_ context.Context, ts []Turn) (*Insights, error) {
	ins := &Insights{TurnScores: make([]float64, len(ts)), Outcome: "unknown"}
	freq := map[string]int{}
	for i, t := range ts {
		ins.TurnScores[i] = lexiconScore(t.Content)
		for _, w := range words(t.Content) {
			if !stopWords[w] && len(w) > 2 {
				freq[w]++
			}
		}
	}
	// Sentences scored by how often their content words recur in the call.
	type sentence struct {
		order int
		role  string
		text  string
		score float64
	}
	var sents []sentence
	for _, t := range ts {
		for _, s := range sentenceEnd.FindAllString(t.Content, -1) {
			s = strings.TrimSpace(s)
			ws := words(s)
			if len(ws) < 3 {
				continue
			}
			sc := 0.0
			for _, w := range ws {
				sc += float64(freq[w])
			}
			sents = append(sents, sentence{len(sents), t.ParticipantRole, s, sc / math.Sqrt(float64(len(ws)))})
		}
		if promiseRe.MatchString(t.Content) && t.ParticipantRole == RoleAgent {
			for _, s := range sentenceEnd.FindAllString(t.Content, -1) {
				if promiseRe.MatchString(s) {
					ins.ActionItems = append(ins.ActionItems, strings.TrimSpace(s))
				}
			}
		}
	}
	sort.SliceStable(sents, func(i, j int) bool { return sents[i].score > sents[j].score })
	sents = sents[:min(len(sents), 3)]
	sort.Slice(sents, func(i, j int) bool { return sents[i].order < sents[j].order })
	var parts []string
	for _, s := range sents {
		parts = append(parts, roleWords[s.role]+`: "`+s.text+`"`)
	}
	ins.Summary = strings.Join(parts, " ")
	all := transcriptText(ts)
	switch {
	case followUpRe.MatchString(all):
		ins.Outcome = "follow_up"
	case resolvedRe.MatchString(all):
		ins.Outcome = "resolved"
	}
	type wc struct {
		w string
		n int
	}
	var top []wc
	for w, n := range freq {
		if n >= 2 {
			top = append(top, wc{w, n})
		}
	}
	sort.Slice(top, func(i, j int) bool { return top[i].n > top[j].n || top[i].n == top[j].n && top[i].w < top[j].w })
	for _, t := range top[:min(len(top), 3)] {
		ins.Topics = append(ins.Topics, t.w)
	}
	return ins, nil
}

// Chat asks an OpenAI-compatible chat-completions endpoint (OpenAI, Groq, Together, vLLM,
// llama.cpp server, Ollama) for each turn's sentiment and the recap, in JSON. Its token use
// is counted into the event's total_tokens. As with OpenAI, the base URL is the operator's.
type Chat struct {
	BaseURL   string
	APIKey    string
	ModelName string
	Timeout   time.Duration
	Client    *http.Client
}

// Name implements Analyzer.
func (c *Chat) Name() string { return "chat" }

const chatPrompt = `You analyse a phone call between an AGENT and a CUSTOMER. The transcript lists the turns,
numbered from 0. Answer with one JSON object only:
{"turn_scores": [one number per turn from -1 (negative) to 1 (positive)],
 "summary": "two or three sentences on what the call was about and how it ended",
 "outcome": "resolved" | "unresolved" | "follow_up" | "unknown",
 "action_items": ["things someone promised to do"],
 "topics": ["up to five one- or two-word topics"]}
Use only what the transcript says.`

// Analyze implements Analyzer.
func (c *Chat) Analyze(ctx context.Context, ts []Turn) (*Insights, error) {
	var b strings.Builder
	for i, t := range ts {
		fmt.Fprintf(&b, "%d %s: %s\n", i, t.ParticipantRole, t.Content)
	}
	reqBody, _ := json.Marshal(map[string]any{
		"model": c.ModelName,
		"messages": []map[string]string{{"role": "system", "content": chatPrompt},
			{"role": "user", "content": b.String()}},
		"response_format": map[string]string{"type": "json_object"},
		"temperature":     0,
	})
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(c.BaseURL, "/")+"/v1/chat/completions",
		bytes.NewReader(reqBody))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if c.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+c.APIKey)
	}
	client := c.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("chat: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return nil, fmt.Errorf("chat: %w", err)
	}
	if resp.StatusCode/100 != 2 {
		return nil, fmt.Errorf("chat: HTTP %d: %s", resp.StatusCode, errorMessage(raw))
	}
	var out struct {
		Choices []struct {
			Message struct {
				Content string `json:"content"`
			} `json:"message"`
		} `json:"choices"`
		Usage struct {
			TotalTokens int `json:"total_tokens"`
		} `json:"usage"`
	}
	if err := json.Unmarshal(raw, &out); err != nil || len(out.Choices) == 0 {
		return nil, fmt.Errorf("chat: the answer is not a chat completion: %s", errorMessage(raw))
	}
	content := strings.TrimSpace(out.Choices[0].Message.Content)
	content = strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(content, "```json"), "```"), "```")
	var got struct {
		TurnScores  []float64 `json:"turn_scores"`
		Summary     string    `json:"summary"`
		Outcome     string    `json:"outcome"`
		ActionItems []string  `json:"action_items"`
		Topics      []string  `json:"topics"`
	}
	if err := json.Unmarshal([]byte(content), &got); err != nil {
		return nil, fmt.Errorf("chat: the model's answer is not the JSON asked for: %v", err)
	}
	ins := &Insights{TurnScores: make([]float64, len(ts)), Summary: got.Summary, Outcome: got.Outcome,
		ActionItems: got.ActionItems, Topics: got.Topics, TotalTokens: out.Usage.TotalTokens}
	for i := range ins.TurnScores {
		if i < len(got.TurnScores) {
			ins.TurnScores[i] = round2(min(max(got.TurnScores[i], -1), 1))
		}
	}
	if ins.Outcome == "" {
		ins.Outcome = "unknown"
	}
	return ins, nil
}
