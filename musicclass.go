package switchboard

import (
	"context"
	"io"
	"regexp"
	"time"
)

// DefaultMusicClass is the class every account has: music on hold for calls that name no
// other. Until an account uploads audio under this name it is a generated arrangement of
// tones (so hold is never silent), and deleting the upload brings that back.
const DefaultMusicClass = "default"

// MusicClass is a named piece of music on hold of an account: audio uploaded as WAV or MP3
// and stored converted to 8 kHz mono G.711 µ-law, the form it is played in. Queues name one
// (Queue.MusicOnHold); a call on hold hears its queue's class, or the account's default.
type MusicClass struct {
	ID        int64
	AccountID int64
	Name      string
	// Format is what was uploaded: "wav" or "mp3" ("generated" for the built-in default,
	// which has no row).
	Format string
	// Samples is the length of the stored audio in 8 kHz samples.
	Samples   int
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Duration is how long the class plays before it starts again.
func (m *MusicClass) Duration() time.Duration {
	return time.Duration(m.Samples) * time.Second / 8000
}

// musicClassName: what Asterisk allows in a musiconhold.conf section name, lower case.
var musicClassName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,39}$`)

// ValidMusicClassName reports whether s can name a music class.
func ValidMusicClassName(s string) bool { return musicClassName.MatchString(s) }

// Validate checks the class's fields.
func (m *MusicClass) Validate() error {
	v := ValidationErrors{}
	if !ValidMusicClassName(m.Name) {
		v.Add("name", "must be 1 to 40 lower-case letters, digits, '-' or '_', starting with a letter or digit")
	}
	if m.Format != "wav" && m.Format != "mp3" {
		v.Add("format", "must be wav or mp3")
	}
	if m.Samples <= 0 {
		v.Add("audio", "must hold some sound")
	}
	return v.Err()
}

// Limits of a music class upload: the file as sent (a WAV of 20 MiB is two minutes of CD
// audio, twenty of 8 kHz mono), and the music once converted: five minutes of 8 kHz µ-law
// is 2.4 MB in the database, read whenever a call is put on hold.
const (
	MaxMusicUploadBytes = 20 << 20
	MaxMusicDuration    = 5 * time.Minute
)

// MusicUpload is one audio file sent to become a music class: the declared content type
// (audio/wav, audio/mpeg …) and the body, read at most up to the service's size limit.
type MusicUpload struct {
	ContentType string
	Body        io.Reader
}

// MusicClassService keeps an account's music classes. provision.Service implements it.
type MusicClassService interface {
	// CreateMusicClass converts the upload and stores it as a new class named name.
	CreateMusicClass(ctx context.Context, accountID int64, name string, u MusicUpload) (*MusicClass, error)
	// ReplaceMusicClassAudio converts the upload and makes it the class's audio.
	ReplaceMusicClassAudio(ctx context.Context, accountID, id int64, u MusicUpload) (*MusicClass, error)
	// DeleteMusicClass deletes an uploaded class; one a queue names is refused (CONFLICT).
	DeleteMusicClass(ctx context.Context, accountID, id int64) error
}
