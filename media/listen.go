package media

import "sync"

// AudioSink receives the audio a session receives from its remote, decoded to 8 kHz 16-bit
// linear PCM, one packet's samples per call (normally a 20 ms frame). It runs in the
// session's receiving goroutine, ahead of the relay, so it must not block: a sink copies
// what it keeps (the slice is reused after it returns) and hands slow work to its own
// goroutine. Voicemail, in-band DTMF detection, conference mixing and call recording all
// hear a leg this way.
type AudioSink func(samples []int16)

// listeners is the session's set of sinks, copied on change so that the receiving
// goroutine reads it without a lock.
type listeners struct {
	mu    sync.Mutex
	next  int
	sinks map[int]AudioSink
}

// Listen adds sink to the session until stop is called; stop waits for a call of sink in
// flight, so after it returns sink is never called again. Sinks hear the remote's audio
// whether or not the session is bridged, on hold or playing; telephone-events are not
// audio and are not passed on.
func (s *Session) Listen(sink AudioSink) (stop func()) {
	s.listen.mu.Lock()
	defer s.listen.mu.Unlock()
	if s.listen.sinks == nil {
		s.listen.sinks = map[int]AudioSink{}
	}
	id := s.listen.next
	s.listen.next++
	s.listen.sinks[id] = sink
	s.publishSinks()
	var once sync.Once
	return func() {
		once.Do(func() {
			s.listen.mu.Lock()
			delete(s.listen.sinks, id)
			s.publishSinks()
			s.listen.mu.Unlock()
			// The reader holds sinkMu while it calls sinks: taking it here waits out a call
			// that began before the sink was removed.
			s.sinkMu.Lock()
			//lint:ignore SA2001 an empty critical section is the point: a barrier
			s.sinkMu.Unlock()
		})
	}
}

// publishSinks stores the current sinks for the reader; listen.mu is held.
func (s *Session) publishSinks() {
	if len(s.listen.sinks) == 0 {
		s.sinks.Store(nil)
		return
	}
	list := make([]AudioSink, 0, len(s.listen.sinks))
	for _, sink := range s.listen.sinks {
		list = append(list, sink)
	}
	s.sinks.Store(&list)
}

// hear decodes a received audio payload for the sinks, if there are any; reader goroutine.
func (s *Session) hear(payload []byte, e Encoding) {
	if s.sinks.Load() == nil {
		return
	}
	s.sinkMu.Lock()
	defer s.sinkMu.Unlock()
	list := s.sinks.Load() // again under sinkMu: a stop that returned has removed its sink
	if list == nil {
		return
	}
	s.heard = DecodeFrame(s.heard[:0], e, payload)
	for _, sink := range *list {
		sink(s.heard)
	}
}
