package pbx

import (
	"context"
	"sync"

	"switchboard"
	"switchboard/media"
)

// holdMusicPeriod is the length of media.HoldMusic's pattern in 20 ms frames: four notes of
// 400 ms with 100 ms after each, then a second of rest (3 s).
const holdMusicPeriod = 150

// holdMusicPCM is one period of media.HoldMusic, rendered once: every waiting caller's
// music then copies samples instead of computing sine waves 8000 times a second.
var holdMusicPCM = sync.OnceValue(func() []int16 {
	src := media.HoldMusic()
	pcm := make([]int16, holdMusicPeriod*media.FrameSamples)
	for i := 0; i < holdMusicPeriod; i++ {
		_ = src.ReadFrame(pcm[i*media.FrameSamples : (i+1)*media.FrameSamples]) // an endless tone never fails
	}
	return pcm
})

// holdMusic is an endless media.Source playing the same audio as media.HoldMusic from the
// shared pre-rendered period.
type holdMusic struct {
	pcm []int16
	pos int
}

func newHoldMusic() *holdMusic { return &holdMusic{pcm: holdMusicPCM()} }

func (h *holdMusic) ReadFrame(frame []int16) error {
	for n := 0; n < len(frame); {
		c := copy(frame[n:], h.pcm[h.pos:])
		n += c
		h.pos = (h.pos + c) % len(h.pcm)
	}
	return nil
}

// musicSource is the music of the account's class: its uploaded audio looped, or the
// generated music for the default class (and, with a warning, for a class that is gone:
// a queue's class deleted between its check and the call). Callers hear music either way.
func (e *Engine) musicSource(ctx context.Context, accountID int64, class string) media.Source {
	if class == "" {
		class = switchboard.DefaultMusicClass
	}
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	audio, err := e.store.GetMusicClassAudio(ctx, accountID, class)
	if err == nil && len(audio) > 0 {
		return &loopedUlaw{audio: audio}
	}
	if switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
		e.log.Warn("music class unreadable; playing the generated default", "class", class, "error", err)
	} else if class != switchboard.DefaultMusicClass {
		e.log.Warn("music class missing; playing the generated default", "class", class)
	}
	return newHoldMusic()
}

// loopedUlaw is an endless media.Source of 8 kHz µ-law audio (a music class as stored),
// starting again at its end.
type loopedUlaw struct {
	audio []byte
	pos   int
}

func (l *loopedUlaw) ReadFrame(frame []int16) error {
	for i := range frame {
		frame[i] = media.UlawDecode(l.audio[l.pos])
		l.pos = (l.pos + 1) % len(l.audio)
	}
	return nil
}

// playMusic plays the account's music class (DefaultMusicClass for "") to leg l until stop
// is called, l's dialog ends or its media closes. stop returns once the music has stopped,
// and may be called more than once. While it plays, audio relayed to l from a bridged leg
// is muted (media.Session.Play), so the music replaces the other party's voice. If l's
// phone asked for no audio (it holds the call itself), nothing reaches it: the media
// session sends nothing to such a remote. Hold (dialog.go), queues and call park use it.
func (c *call) playMusic(l *leg, class string) (stop func()) {
	if !c.e.track() {
		return func() {} // the engine is stopping: every call is being hung up
	}
	ctx, cancel := context.WithCancel(l.ctx())
	done := make(chan struct{})
	go func() {
		defer c.e.wg.Done()
		defer close(done)
		_ = l.media.Play(ctx, c.e.musicSource(ctx, c.accountID, class))
	}()
	return func() {
		cancel()
		<-done
	}
}

// startMOH plays the queue's music on hold to the caller until stopMOH.
func (c *call) startMOH(st *callerState, class string) {
	if st.mohStop != nil {
		return
	}
	st.mohStop = c.playMusic(st.a, class)
}

func (c *call) stopMOH(st *callerState) {
	if st.mohStop == nil {
		return
	}
	st.mohStop()
	st.mohStop = nil
}
