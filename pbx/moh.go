package pbx

import (
	"context"
	"sync"

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

// startMOH plays music on hold to the caller until stopMOH.
func (c *call) startMOH(st *callerState) {
	if st.mohStop != nil {
		return
	}
	ctx, cancel := context.WithCancel(st.a.ctx())
	st.mohStop, st.mohDone = cancel, make(chan struct{})
	c.e.wg.Add(1) // in the call's goroutine: wg is above zero
	go func() {
		defer c.e.wg.Done()
		defer close(st.mohDone)
		_ = st.a.media.Play(ctx, newHoldMusic())
	}()
}

func (c *call) stopMOH(st *callerState) {
	if st.mohStop == nil {
		return
	}
	st.mohStop()
	<-st.mohDone
	st.mohStop, st.mohDone = nil, nil
}
