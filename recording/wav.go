package recording

import (
	"encoding/binary"
	"errors"
	"os"

	"switchboard/media"
)

// The recorder (media.WAVWriter) writes a canonical 44-byte header with placeholder sizes
// first and audio after it. The sizes are written here from the file's length when the
// recording is committed, and by Repair after a crash, so neither depends on the process
// that wrote the audio having lived to the end.

// errNoAudio: the file holds no audio frame (a header at most).
var errNoAudio = errors.New("no audio")

// fixWAV writes the RIFF and data sizes of the recorder's WAV file f from its length,
// cutting a trailing partial frame (a write the crash interrupted): media.RepairWAVFile. It
// returns the file's size and the audio's length in bytes; errNoAudio when there is none.
func fixWAV(f *os.File) (size, audio int64, err error) {
	audio, err = media.RepairWAVFile(f)
	if errors.Is(err, media.ErrNotWAV) {
		if st, serr := f.Stat(); serr == nil && st.Size() < media.WAVHeaderSize {
			return st.Size(), 0, errNoAudio // the process died before the header was written
		}
	}
	if err != nil {
		return 0, 0, err
	}
	if audio == 0 {
		return media.WAVHeaderSize, 0, errNoAudio
	}
	return media.WAVHeaderSize + audio, audio, nil
}

// wavDurationMs is how long audio bytes of the header's format last.
func wavDurationMs(f *os.File, audio int64) int64 {
	h := make([]byte, media.WAVHeaderSize)
	if _, err := f.ReadAt(h, 0); err != nil {
		return 0
	}
	perSec := int64(binary.LittleEndian.Uint32(h[28:])) // bytes a second
	if perSec <= 0 {
		return 0
	}
	return audio * 1000 / perSec
}
