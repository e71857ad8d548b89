// Package media carries the audio of calls: RTP sessions on UDP ports from a pool, symmetric
// RTP latching, a relay that bridges two legs (forwarding or transcoding G.711 µ-law and
// A-law), RFC 4733 telephone-events relayed and decoded into key presses, playback of
// generated tones, and the SDP offer/answer that negotiates all of it.
//
// It knows nothing of SIP or HTTP: the call engine (pbx) hands it SDP bodies and addresses,
// and gets back SDP bodies, digits and counters.
//
// A typical inbound leg:
//
//	offer, err := media.ParseSDP(inviteBody)      // ErrNoCommonCodec: answer 488
//	leg, err := media.NewSession(media.SessionConfig{Pool: pool, LocalIP: ip})
//	leg.SetRemote(offer)
//	answer, err := offer.Answer(leg.LocalAddr(), media.Origin{})
//	...
//	relay, err := media.Bridge(leg, otherLeg)     // until hang-up or transfer
//	defer relay.Close()
//
// To hear what a leg's remote sends (voicemail, in-band DTMF, conference mixing,
// recording), add a sink; it gets decoded 8 kHz PCM in the receiving goroutine and must not
// block:
//
//	stop := leg.Listen(func(pcm []int16) { recorder.Write(pcm) })
//	defer stop()
//
// An RTP/SAVP offer (offer.Crypto != nil, SRTP keyed by SDES) is answered with the
// session's own key, and the session is SRTP from SetRemote on:
//
//	key, err := leg.SRTPKey(offer.Crypto.Suite)
//	answer, err := offer.AnswerSecure(leg.LocalAddr(), media.Origin{}, key)
//
// A conference room is a Mixer: each participant hears everyone else, never themselves,
// mixed every 20 ms by one goroutine per room and sent in each participant's own codec
// (latency: one tick plus at most 80 ms of jitter buffer; see Mixer). A session in a room is
// not bridged; Play on it (a beep for that participant) pauses the mix to it meanwhile:
//
//	room := media.NewMixer(media.MixerConfig{JoinLeaveTones: true})
//	defer room.Close()
//	p, err := room.Join(leg, false)   // ErrMixerClosed once the room is closed
//	p.SetMuted(true)                  // the others stop hearing the leg; it still hears them
//	p.Leave()                         // on hang-up; the others hear the leave tone
package media
