package prompt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"regexp"
	"strings"
	"time"

	"switchboard"
	"switchboard/media"
)

// Speaker speaks text with espeak-ng, run as a program: the text goes on its standard
// input (never on the command line, where it could be read as an option, and where other
// users see it in ps), the WAV comes on its standard output.
type Speaker struct {
	// Path is the espeak-ng program: a path, or a name looked up in $PATH.
	Path string
	// Timeout bounds one run; 0 = DefaultSpeechTimeout.
	Timeout time.Duration
}

// DefaultSpeechTimeout bounds one espeak-ng run: MaxPromptTextBytes of text take a few
// seconds on a slow core.
const DefaultSpeechTimeout = 30 * time.Second

// maxSpeechOutput bounds what is read from espeak-ng: MaxPromptDuration at 22050 Hz 16-bit.
const maxSpeechOutput = int(22050*2*switchboard.MaxPromptDuration/time.Second) + 4096

// voiceRE: an espeak-ng voice name or language ("en", "en-us", "de", "mb-de1", "en+f3").
var voiceRE = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_+-]{0,39}$`)

// ValidVoice reports whether v can be passed to espeak-ng as a voice.
func ValidVoice(v string) bool { return voiceRE.MatchString(v) }

// Available reports whether the program can be found (it may still fail to run).
func (s *Speaker) Available() bool {
	if s == nil || s.Path == "" {
		return false
	}
	_, err := exec.LookPath(s.Path)
	return err == nil
}

// unavailable is the answer when espeak-ng is missing.
func (s *Speaker) unavailable() error {
	path := ""
	if s != nil {
		path = s.Path
	}
	return switchboard.Errorf(switchboard.EUNAVAILABLE,
		"Text prompts need espeak-ng, which was not found on this server (looked for %q): install it (apt-get install espeak-ng) "+
			"or point --espeak (SWITCHBOARD_ESPEAK) at it; uploaded audio prompts work without it", path)
}

// Speak returns text spoken in voice as 8 kHz mono PCM. A missing program is UNAVAILABLE;
// an unknown voice BAD_REQUEST naming the field voice; speech longer than
// MaxPromptDuration BAD_REQUEST naming text.
func (s *Speaker) Speak(ctx context.Context, text, voice string) ([]int16, error) {
	if !s.Available() {
		return nil, s.unavailable()
	}
	if !ValidVoice(voice) {
		return nil, switchboard.FieldError(switchboard.EBADREQUEST, "voice", "must be an espeak-ng voice such as en, en-us or de")
	}
	timeout := s.Timeout
	if timeout == 0 {
		timeout = DefaultSpeechTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, s.Path, "--stdin", "--stdout", "-v", voice)
	cmd.Stdin = strings.NewReader(text)
	out := &limitedBuffer{max: maxSpeechOutput}
	errOut := &limitedBuffer{max: 4096}
	cmd.Stdout, cmd.Stderr = out, errOut
	err := cmd.Run()
	errText := strings.TrimSpace(errOut.buf.String())
	switch {
	case out.over:
		return nil, switchboard.FieldError(switchboard.EBADREQUEST, "text",
			fmt.Sprintf("would speak for longer than %s: shorten it", switchboard.MaxPromptDuration))
	case ctx.Err() != nil:
		return nil, switchboard.Errorf(switchboard.EUNAVAILABLE, "espeak-ng did not finish within %s", timeout)
	case strings.Contains(errText, "voice"):
		// espeak-ng says "Failed to read voice 'xx'" (and may still exit 0, speaking nothing).
		return nil, switchboard.FieldError(switchboard.EBADREQUEST, "voice", fmt.Sprintf("%q is not a voice espeak-ng knows (espeak-ng --voices lists them)", voice))
	case err != nil:
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return nil, switchboard.Errorf(switchboard.EINTERNAL, "espeak-ng failed: %v: %s", err, errText)
		}
		return nil, s.unavailable()
	}
	b := out.buf.Bytes()
	if err := fixStreamedWAV(b); err != nil {
		return nil, switchboard.Errorf(switchboard.EINTERNAL, "espeak-ng wrote no WAV: %v", err)
	}
	pcm, err := media.ReadWAV(bytes.NewReader(b), switchboard.MaxPromptDuration)
	switch {
	case errors.Is(err, media.ErrAudioTooLong):
		return nil, switchboard.FieldError(switchboard.EBADREQUEST, "text",
			fmt.Sprintf("would speak for longer than %s: shorten it", switchboard.MaxPromptDuration))
	case errors.Is(err, media.ErrBadAudio):
		return nil, switchboard.FieldError(switchboard.EBADREQUEST, "text", "gives no speech: write some words")
	case err != nil:
		return nil, err
	}
	return pcm, nil
}

// limitedBuffer keeps at most max bytes, noting that more came (and then failing the
// write, which stops the program's output).
type limitedBuffer struct {
	buf  bytes.Buffer
	max  int
	over bool
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if l.buf.Len()+len(p) > l.max {
		l.over = true
		return 0, errors.New("output too large")
	}
	return l.buf.Write(p)
}
