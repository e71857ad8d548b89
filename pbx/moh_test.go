package pbx

import (
	"slices"
	"testing"

	"switchboard/media"
)

// The pre-rendered hold music must sound exactly like media.HoldMusic, across the point
// where its pattern repeats.
func TestHoldMusicMatchesMediaHoldMusic(t *testing.T) {
	want, got := media.HoldMusic(), newHoldMusic()
	a, b := make([]int16, media.FrameSamples), make([]int16, media.FrameSamples)
	for i := 0; i < 2*holdMusicPeriod+7; i++ {
		if err := want.ReadFrame(a); err != nil {
			t.Fatal(err)
		}
		if err := got.ReadFrame(b); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(a, b) {
			t.Fatalf("frame %d differs from media.HoldMusic", i)
		}
	}
}
