package prompt

import (
	"container/list"
	"context"
	"io"
	"log/slog"
	"sync"
	"time"

	"switchboard"
)

// SystemKey is the blob key of the generated system prompt name in lang.
func SystemKey(lang, name string) string { return "system/prompts/" + lang + "/" + name + ".wav" }

// AccountSystemKey is the blob key of the account's own audio for a system prompt.
func AccountSystemKey(accountID int64, lang, name string) string {
	return switchboard.AccountBlobKey(accountID, "system-prompts", lang, name+".wav")
}

// Sources of a system prompt's audio, in the order System tries them.
const (
	SourceAccount    = "account"     // the account's upload in the language
	SourceSystem     = "system"      // generated in the language
	SourceFallbackEN = "fallback-en" // generated in English (nothing in the language)
	SourceTones      = "tones"       // no audio at all: the class's tone pattern
)

// Resolve finds where the audio of the system prompt p in lang comes from for the account:
// the source, and for every source but SourceTones the blob's info.
func Resolve(ctx context.Context, blobs switchboard.BlobStore, accountID int64, p *SystemPrompt, lang string) (string, switchboard.BlobInfo, error) {
	if lang == "" {
		lang = switchboard.DefaultLanguage
	}
	tries := []struct{ source, key string }{
		{SourceAccount, AccountSystemKey(accountID, lang, p.Name)},
		{SourceSystem, SystemKey(lang, p.Name)},
	}
	if lang != switchboard.DefaultLanguage {
		tries = append(tries, struct{ source, key string }{SourceFallbackEN, SystemKey(switchboard.DefaultLanguage, p.Name)})
	}
	for _, t := range tries {
		info, err := blobs.Stat(ctx, t.key)
		if err == nil {
			return t.source, info, nil
		}
		if switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
			return "", switchboard.BlobInfo{}, err
		}
	}
	return SourceTones, switchboard.BlobInfo{}, nil
}

// PromptReader is the part of the store the library reads prompts' rows from.
type PromptReader interface {
	GetPrompt(ctx context.Context, accountID, id int64) (*switchboard.Prompt, error)
}

// Library implements switchboard.PromptLibrary on the store and the blob store, keeping
// decoded audio in a cache bounded by samples (least recently used out first). An entry is
// keyed by blob key, size and time, so an object replaced under its key is read again.
type Library struct {
	store  PromptReader
	blobs  switchboard.BlobStore
	logger *slog.Logger

	mu       sync.Mutex
	max      int // samples the cache may hold
	held     int
	order    *list.List // of *cacheEntry, most recent first
	byKey    map[cacheKey]*list.Element
	tonesFor map[string][]int16
}

type cacheKey struct {
	key  string
	size int64
	mod  time.Time
}

type cacheEntry struct {
	k   cacheKey
	pcm []int16
}

// DefaultCacheSamples bounds the cache: 16 M samples are 32 MB, some 35 minutes of audio.
const DefaultCacheSamples = 16 << 20

var _ switchboard.PromptLibrary = (*Library)(nil)

// NewLibrary returns a library reading rows from store and audio from blobs, caching at
// most maxSamples samples (0 = DefaultCacheSamples).
func NewLibrary(store PromptReader, blobs switchboard.BlobStore, maxSamples int, logger *slog.Logger) *Library {
	if maxSamples <= 0 {
		maxSamples = DefaultCacheSamples
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Library{store: store, blobs: blobs, logger: logger, max: maxSamples, order: list.New(),
		byKey: map[cacheKey]*list.Element{}, tonesFor: map[string][]int16{}}
}

// Prompt returns the account's prompt's audio.
func (l *Library) Prompt(ctx context.Context, accountID, promptID int64) ([]int16, error) {
	p, err := l.store.GetPrompt(ctx, accountID, promptID)
	if err != nil {
		return nil, err
	}
	info, err := l.blobs.Stat(ctx, p.BlobKey)
	if err != nil {
		return nil, err
	}
	return l.load(ctx, info)
}

// System returns the system prompt's audio, falling back as PromptLibrary documents; a
// stored object that cannot be read or decoded is logged and skipped to the tones, so a
// call never goes silent over it.
func (l *Library) System(ctx context.Context, accountID int64, name, language string) ([]int16, error) {
	p := Lookup(name)
	if p == nil {
		return nil, switchboard.Errorf(switchboard.ENOTFOUND, "No system prompt named %q", name)
	}
	source, info, err := Resolve(ctx, l.blobs, accountID, p, language)
	if err == nil && source != SourceTones {
		pcm, err := l.load(ctx, info)
		if err == nil {
			return pcm, nil
		}
		l.logger.Warn("system prompt audio unreadable; playing tones", "key", info.Key, "err", err)
	} else if err != nil {
		l.logger.Warn("system prompt lookup failed; playing tones", "name", name, "err", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	pcm, ok := l.tonesFor[name]
	if !ok {
		pcm = Tones(p)
		l.tonesFor[name] = pcm
	}
	return pcm, nil
}

// load returns the decoded object, from the cache or read and decoded now.
func (l *Library) load(ctx context.Context, info switchboard.BlobInfo) ([]int16, error) {
	k := cacheKey{info.Key, info.Size, info.ModTime}
	l.mu.Lock()
	if e, ok := l.byKey[k]; ok {
		l.order.MoveToFront(e)
		pcm := e.Value.(*cacheEntry).pcm
		l.mu.Unlock()
		return pcm, nil
	}
	l.mu.Unlock()
	r, _, err := l.blobs.Open(ctx, info.Key)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	b, err := io.ReadAll(io.LimitReader(r, int64(switchboard.MaxPromptDuration/time.Second)*16000+4096))
	if err != nil {
		return nil, switchboard.Errorf(switchboard.EINTERNAL, "reading prompt audio: %v", err)
	}
	pcm, err := DecodeWAV(b)
	if err != nil {
		return nil, switchboard.Errorf(switchboard.EINTERNAL, "%v", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.byKey[k]; !ok && len(pcm) <= l.max {
		l.byKey[k] = l.order.PushFront(&cacheEntry{k, pcm})
		l.held += len(pcm)
		for l.held > l.max {
			last := l.order.Back()
			e := last.Value.(*cacheEntry)
			l.order.Remove(last)
			delete(l.byKey, e.k)
			l.held -= len(e.pcm)
		}
	}
	return pcm, nil
}

// cached reports how many entries and samples the cache holds (for tests).
func (l *Library) cached() (entries, samples int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.order.Len(), l.held
}
