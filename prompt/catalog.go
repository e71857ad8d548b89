package prompt

import (
	"sort"

	"switchboard"
)

// Tone classes: what a system prompt falls back to when it has no audio (espeak-ng was
// missing at first start and the account uploaded none). Each class is a short pattern a
// caller can learn; docs/prompts.md lists them.
const (
	ToneInfo    = "info"    // one 440 Hz beep, 300 ms: something is said
	ToneError   = "error"   // three short 480+620 Hz beeps: that did not work
	ToneInput   = "input"   // two rising beeps (660, 880 Hz): enter something now
	ToneConfirm = "confirm" // three rising beeps (523, 659, 784 Hz): done
	ToneGoodbye = "goodbye" // three falling beeps (784, 659, 523 Hz)
	ToneJoin    = "join"    // two rising beeps (440, 660 Hz)
	ToneLeave   = "leave"   // two falling beeps (660, 440 Hz)
	ToneDigit   = "digit"   // the digit's own DTMF tone, 200 ms
)

// SystemPrompt is one entry of the catalog: its tone class and its text per language.
type SystemPrompt struct {
	Name  string
	Tone  string
	Texts map[string]string // language -> text espeak-ng speaks
}

// Languages are the languages system prompts are generated in at first start. Others can
// be uploaded per account; until then they fall back to English.
var Languages = []string{"en", "de"}

// catalog holds every system prompt by name.
var catalog = map[string]*SystemPrompt{}

func add(name, tone, en, de string) {
	catalog[name] = &SystemPrompt{Name: name, Tone: tone, Texts: map[string]string{"en": en, "de": de}}
}

func init() {
	add(switchboard.SysPromptInvalidOption, ToneError, "That is not a valid option.", "Diese Auswahl ist ungültig.")
	add(switchboard.SysPromptNoInput, ToneError, "We did not receive your selection.", "Wir haben keine Eingabe erhalten.")
	add(switchboard.SysPromptGoodbye, ToneGoodbye, "Goodbye.", "Auf Wiederhören.")
	add(switchboard.SysPromptPleaseHold, ToneInfo, "Please hold, your call is being connected.", "Bitte warten Sie, Ihr Anruf wird verbunden.")
	add(switchboard.SysPromptVMGreetingDefault, ToneInfo,
		"The person you are calling is not available. Please leave a message after the tone.",
		"Der gewünschte Gesprächspartner ist nicht erreichbar. Bitte hinterlassen Sie nach dem Signalton eine Nachricht.")
	add(switchboard.SysPromptVMInstructions, ToneInput,
		"Record your message after the tone. When you are done, press the hash key or hang up.",
		"Sprechen Sie Ihre Nachricht nach dem Signalton. Drücken Sie danach die Raute-Taste oder legen Sie auf.")
	add(switchboard.SysPromptVMNoMessages, ToneInfo, "You have no new messages.", "Sie haben keine neuen Nachrichten.")
	add(switchboard.SysPromptVMNewMessages, ToneInfo, "You have new messages.", "Sie haben neue Nachrichten.")
	add(switchboard.SysPromptVMMessage, ToneInfo, "Message.", "Nachricht.")
	add(switchboard.SysPromptVMMenu, ToneInput,
		"Press 1 to play the message again, 3 to save it, 7 to delete it, or 9 for the next message.",
		"Drücken Sie 1, um die Nachricht erneut abzuspielen, 3 zum Speichern, 7 zum Löschen oder 9 für die nächste Nachricht.")
	add(switchboard.SysPromptVMDeleted, ToneConfirm, "Message deleted.", "Nachricht gelöscht.")
	add(switchboard.SysPromptVMSaved, ToneConfirm, "Message saved.", "Nachricht gespeichert.")
	add(switchboard.SysPromptVMBoxFull, ToneError, "The mailbox is full. Please try again later.", "Das Postfach ist voll. Bitte versuchen Sie es später noch einmal.")
	add(switchboard.SysPromptVMOptions, ToneInput, "To record your greeting, press 0.", "Um Ihre Ansage aufzunehmen, drücken Sie die 0.")
	add(switchboard.SysPromptVMRecordGreeting, ToneInput, "After the tone, say your greeting, then press the hash key.",
		"Sprechen Sie nach dem Ton Ihre Ansage und drücken Sie dann die Raute-Taste.")
	add(switchboard.SysPromptVMGreetingSaved, ToneConfirm, "Your greeting has been saved.", "Ihre Ansage wurde gespeichert.")
	add(switchboard.SysPromptEnterPIN, ToneInput, "Please enter your PIN, followed by the hash key.", "Bitte geben Sie Ihre PIN ein, gefolgt von der Raute-Taste.")
	add(switchboard.SysPromptPINInvalid, ToneError, "That PIN is not correct.", "Diese PIN ist nicht korrekt.")
	add(switchboard.SysPromptConfEnterPIN, ToneInput, "Please enter the conference PIN, followed by the hash key.", "Bitte geben Sie die Konferenz-PIN ein, gefolgt von der Raute-Taste.")
	add(switchboard.SysPromptConfJoined, ToneJoin, "You are now in the conference.", "Sie sind jetzt in der Konferenz.")
	add(switchboard.SysPromptConfLeft, ToneLeave, "You have left the conference.", "Sie haben die Konferenz verlassen.")
	add(switchboard.SysPromptConfMuted, ToneConfirm, "You are muted.", "Ihr Mikrofon ist stumm geschaltet.")
	add(switchboard.SysPromptConfUnmuted, ToneConfirm, "You are no longer muted.", "Ihr Mikrofon ist wieder eingeschaltet.")
	add(switchboard.SysPromptConfFull, ToneError, "This conference is full. Please try again later.", "Diese Konferenz ist voll. Bitte versuchen Sie es später noch einmal.")
	add(switchboard.SysPromptConfAlone, ToneInfo, "You are the only person in this conference.", "Sie sind die einzige Person in dieser Konferenz.")
	add(switchboard.SysPromptParkSlot, ToneInfo, "Your call has been parked in slot", "Ihr Anruf wurde geparkt auf Platz")
	add(switchboard.SysPromptCallbackOffer, ToneInput,
		"To keep your place in the queue and be called back, press 1.",
		"Um Ihren Platz in der Warteschlange zu behalten und zurückgerufen zu werden, drücken Sie die 1.")
	add(switchboard.SysPromptCallbackConfirmed, ToneConfirm,
		"Thank you. We will call you back when it is your turn.",
		"Vielen Dank. Wir rufen Sie zurück, sobald Sie an der Reihe sind.")
	add(switchboard.SysPromptCallbackCalling, ToneInfo,
		"This is your requested call back. Please hold while we connect you.",
		"Dies ist Ihr gewünschter Rückruf. Bitte bleiben Sie am Apparat, wir verbinden Sie.")
	en := []string{"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"}
	de := []string{"null", "eins", "zwei", "drei", "vier", "fünf", "sechs", "sieben", "acht", "neun"}
	for d := 0; d <= 9; d++ {
		add(switchboard.SysPromptDigit(d), ToneDigit, en[d], de[d])
	}
}

// Lookup returns the catalog entry of name, or nil when name is no system prompt.
func Lookup(name string) *SystemPrompt { return catalog[name] }

// Catalog returns every system prompt, by name.
func Catalog() []*SystemPrompt {
	out := make([]*SystemPrompt, 0, len(catalog))
	for _, p := range catalog {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
