package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"

	"switchboard"
	"switchboard/sms"
	"switchboard/sms/kannel"
	"switchboard/webhook"
)

// kannelFlags configure the Kannel carrier (docs/sms-kannel.md).
type kannelFlags struct {
	callbackURL string
	networks    stringList
}

func addKannelFlags(fs *flag.FlagSet, f *kannelFlags) {
	fs.StringVar(&f.callbackURL, "kannel-callback-url", "", "Switchboard's base URL as Kannel's smsbox reaches it, for delivery reports (dlr-url) and the get-url of inbound messages; default: --public-url, else the --http listener's URL")
	fs.Var(&f.networks, "kannel-network", "CIDR an account's Kannel sendsms URL may be in although it is private or loopback (repeatable; default 127.0.0.0/8 and ::1/128: Kannel beside Switchboard)")
}

// kannelStore is what the callbacks read: numbers by E.164 and messages by account.
type kannelStore interface {
	kannel.Numbers
	kannel.Messages
}

// kannelMains holds each running server's Kannel wiring by its SMS inbox (the sms.Service):
// the carrier registry (sms.Carriers) is one per process, while tests run several servers
// with their own keys in one process.
var kannelMains sync.Map // switchboard.SMSInbox → *kannelWiring

func init() {
	// Registered before any server starts, so the registry is never written while read.
	sms.Carriers[kannel.Name] = func(cc sms.CarrierConfig) (switchboard.SMSCarrier, error) {
		w, ok := kannelMains.Load(cc.Inbox)
		if !ok {
			return nil, switchboard.Errorf(switchboard.EUNAVAILABLE, "the Kannel carrier is not set up on this server")
		}
		return w.(*kannelWiring).carrier(cc)
	}
}

// kannelWiring is one server's Kannel side: the client every account's carrier uses, the
// key callback secrets derive from, and the callbacks' handler.
type kannelWiring struct {
	inbox       switchboard.SMSInbox
	key         []byte
	callbackURL string // --kannel-callback-url; "" = the SMS service's public URL
	policy      webhook.URLPolicy
	client      *http.Client
	handler     http.Handler
}

// wireKannel sets up the "kannel" carrier of the SMS service inbox and the handler of Kannel's
// callbacks. The callback secret of an account is derived from the server key, so every node
// sharing the key accepts the same callbacks. close forgets the wiring (at shutdown).
func wireKannel(f kannelFlags, key []byte, db kannelStore, inbox switchboard.SMSInbox, logger *slog.Logger) (w *kannelWiring, close func(), err error) {
	w = &kannelWiring{inbox: inbox, key: key, callbackURL: strings.TrimRight(f.callbackURL, "/"),
		policy: webhook.URLPolicy{AllowHTTP: true}}
	nets := []string(f.networks)
	if len(nets) == 0 {
		nets = []string{"127.0.0.0/8", "::1/128"}
	}
	for _, s := range nets {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, nil, fmt.Errorf("--kannel-network %q is not a CIDR such as 10.0.0.0/8", s)
		}
		w.policy.AllowCIDRs = append(w.policy.AllowCIDRs, p)
	}
	// One client for every account's Kannel: it dials only public addresses and the
	// operator's Kannel networks, so an account's sendsms URL cannot reach other services.
	// It keeps a connection per outbox sender warm.
	w.client = webhook.NewHTTPClientConns(w.policy, 15*time.Second, sms.DefaultSenders)
	cbs := &kannel.Callbacks{Inbox: inbox, Numbers: db, Messages: db, Logger: logger.With("component", "kannel"),
		Secret: func(accountID int64) string { return kannel.Secret(key, accountID) }}
	w.handler = cbs.Handler()
	kannelMains.Store(inbox, w)
	return w, func() { kannelMains.Delete(inbox) }, nil
}

// carrier builds the carrier of one account's (or number's) settings.
func (w *kannelWiring) carrier(cc sms.CarrierConfig) (switchboard.SMSCarrier, error) {
	set := cc.Settings
	if err := w.policy.CheckURL(set.KannelURL); err != nil {
		return nil, err
	}
	cb := w.callbackURL
	if cb == "" {
		cb = cc.PublicURL
	}
	return kannel.New(set.AccountID, kannel.Config{
		SendURL: set.KannelURL, Username: set.KannelUser, Password: cc.Password, SMSC: set.KannelSMSC,
		CallbackURL: cb, Secret: kannel.Secret(w.key, set.AccountID), Client: w.client,
	})
}

// withKannel serves Kannel's callbacks beside the API: they carry their own secret, not an
// API key, and Kannel cannot follow the API's envelope of rate limits.
func withKannel(api, callbacks http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/kannel/", callbacks)
	mux.Handle("/", api)
	return mux
}

// printKannelService prints the sms-service group of kannel.conf for an account: smsbox's
// get-url carries the account's callback secret, derived from the server key.
func printKannelService(ctx context.Context, db switchboard.Store, dataDir, keyFlag string, accountID int64, callbackURL string, out io.Writer) error {
	if accountID <= 0 || callbackURL == "" {
		return fmt.Errorf("kannel needs --account N and --callback-url URL (Switchboard's URL as Kannel reaches it, e.g. http://10.0.0.5:8080)")
	}
	if u, err := url.Parse(callbackURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("--callback-url %q is not an http(s) URL", callbackURL)
	}
	if _, err := db.GetAccount(ctx, accountID); err != nil {
		return adminError(err)
	}
	key, err := loadSecretKey(keyFlag, dataDir)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, `# Inbound SMS of account %d go to Switchboard (add to kannel.conf; see docs/sms-kannel.md).
group = sms-service
keyword = default
catch-all = true
max-messages = 0
get-url = "%s"
`, accountID, kannel.MOURL(callbackURL, accountID, kannel.Secret(key, accountID)))
	return nil
}
