package kannel

import (
	"fmt"
	"strings"
	"text/template"
)

// MOURL is the get-url (or post-url) smsbox calls for an inbound message to an account's
// numbers: Kannel replaces %p (sender), %P (receiver), %b (the text, recoded to UTF-8 with
// mo-recode), %c (coding), %C (charset), %I (its message id) and %i (the smsc-id).
func MOURL(callbackURL string, accountID int64, secret string) string {
	return fmt.Sprintf("%s/kannel/%d/mo?from=%%p&to=%%P&text=%%b&coding=%%c&charset=%%C&id=%%I&smsc=%%i&secret=%s",
		strings.TrimRight(callbackURL, "/"), accountID, secret)
}

// ConfParams fills KannelConf.
type ConfParams struct {
	Dir           string // logs and the message store (kannel.store)
	AdminPort     int    // bearerbox admin HTTP (status.txt)
	AdminPassword string
	BoxPort       int // bearerbox ↔ smsbox
	SendPort      int // smsbox's sendsms HTTP
	// Username and Password: the sendsms-user Switchboard's carrier config names.
	Username, Password string
	// MaxParts is the most parts of a concatenated message (the accounts' sms_max_parts).
	MaxParts int
	// AllowIP lists who may use sendsms (Switchboard's addresses), e.g. "127.0.0.1".
	AllowIP string
	// MOURL is the get-url of the catch-all service (see MOURL).
	MOURL string
	// FakeSMSCPort > 0 configures Kannel's fake SMSC for fakesmsc (tests, benchmarks) on
	// that port; otherwise SMSC is written as it is (the operator's SMPP "group = smsc").
	FakeSMSCPort int
	SMSC         string
}

var confTemplate = template.Must(template.New("kannel.conf").Parse(`# kannel.conf written by Switchboard (sms/kannel): one bearerbox, one smsbox.
group = core
admin-port = {{.AdminPort}}
admin-password = {{.AdminPassword}}
admin-interface = 127.0.0.1
smsbox-port = {{.BoxPort}}
smsbox-interface = 127.0.0.1
box-allow-ip = 127.0.0.1
log-file = "{{.Dir}}/bearerbox.log"
log-level = 1
access-log = "{{.Dir}}/access.log"
# Messages Kannel has accepted survive its restart. Kannel's default store: one file written as
# messages come. The spool store (a file per message) cost bearerbox 2-4 times the CPU on ext4,
# whose inode allocator slows down with the files it recently deleted.
store-type = file
store-location = "{{.Dir}}/kannel.store"
dlr-storage = internal

{{if gt .FakeSMSCPort 0 -}}
# Kannel's simulated SMSC: test/fakesmsc connects here.
group = smsc
smsc = fake
smsc-id = fake
port = {{.FakeSMSCPort}}
connect-allow-ip = 127.0.0.1
{{- else -}}
{{.SMSC}}
{{- end}}

group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = {{.BoxPort}}
sendsms-port = {{.SendPort}}
log-file = "{{.Dir}}/smsbox.log"
log-level = 1
# Inbound text is handed to Switchboard in UTF-8 whatever its coding on the air.
mo-recode = true
# An inbound message Switchboard could not take (5xx, down) is tried again.
http-request-retry = 5
http-queue-delay = 5

group = sendsms-user
username = {{.Username}}
password = {{.Password}}
user-allow-ip = "{{.AllowIP}}"
concatenation = true
max-messages = {{.MaxParts}}

# Every inbound message goes to Switchboard; it answers nothing to send back.
group = sms-service
keyword = default
catch-all = true
max-messages = 0
get-url = "{{.MOURL}}"
`))

// KannelConf renders a kannel.conf for p.
func KannelConf(p ConfParams) string {
	if p.MaxParts <= 0 {
		p.MaxParts = 1
	}
	if p.AllowIP == "" {
		p.AllowIP = "127.0.0.1"
	}
	var b strings.Builder
	if err := confTemplate.Execute(&b, p); err != nil {
		panic(err) // the template and its fields are fixed: a mistake here is a bug
	}
	return b.String()
}
