package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"text/tabwriter"
	"time"

	"switchboard"
	"switchboard/provision"
	"switchboard/web"
)

const adminUsage = `Usage: switchboard admin <command> [flags]

Commands:
  account create --name NAME [--id N] [--public] [--sip-domain DOMAIN]
                                                   create an account (prints its id)
  account list                                     list accounts
  account set-domain --account N --sip-domain DOMAIN
                                                   set the account's SIP domain ("" removes it)
  key create --account N --kind developer|user [--user EXTENSION] [--name NAME] [--allow-ip CIDR ...]
                                                   create an API key; the key is printed once
  key list --account N                             list an account's keys (never the keys themselves)
  key revoke --account N --id KEY_ID               revoke a key at once
  create-login --account N --login LOGIN [--role admin|user] [--user EXTENSION]
                                                   create a portal sign-in (an administrator by
                                                   default); its password is printed once
  accounts                                         the operator's view: every account with its
                                                   trunks, the addresses they trust, and grants
  trust-cidr --account N CIDR                      let the account's trunks trust CIDR: needed for
                                                   prefixes wider than /24 (IPv4) or /48 (IPv6) and
                                                   for addresses registered phones use; refused
                                                   when another account trusts any of it
  untrust-cidr --account N CIDR                    withdraw such a grant (stored trunks keep theirs)
  kannel --account N --callback-url URL [--secret-key HEX]
                                                   print the kannel.conf sms-service group that hands
                                                   the account's inbound SMS to Switchboard (with the
                                                   account's callback secret; docs/sms-kannel.md)

Every command also takes --data DIR and --db URL (see "switchboard help serve").
`

func admin(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 1 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
		fmt.Fprint(stderr, adminUsage)
		return flag.ErrHelp
	}
	if len(args) == 0 {
		fmt.Fprint(stderr, adminUsage)
		return errUsage
	}
	command, rest := args[0], args[1:]
	if !oneWordCommands[command] {
		if len(args) < 2 {
			fmt.Fprint(stderr, adminUsage)
			return errUsage
		}
		command, rest = args[0]+" "+args[1], args[2:]
	}
	fs := newFlagSet("admin "+command, stderr, adminUsage+"\nFlags:\n")
	sf := addStorageFlags(fs)
	var (
		name      = fs.String("name", "", "name of the account or key")
		id        = fs.Int64("id", 0, "account id to create, or key id to revoke")
		public    = fs.Bool("public", false, "enable the public (no-key) endpoints for the account")
		accountID = fs.Int64("account", 0, "account id")
		kind      = fs.String("kind", "developer", "key kind: developer (whole account) or user (one user)")
		userExt   = fs.String("user", "", "extension of the user a user key belongs to")
		sipDomain = fs.String("sip-domain", "", "the account's SIP domain, e.g. acme.pbx.example (see docs/sip.md)")
		allowIPs  stringList
		login     = fs.String("login", "", "portal login name (create-login)")
		role      = fs.String("role", "admin", "portal role: admin or user (create-login)")
	)
	fs.Var(&allowIPs, "allow-ip", "IP or CIDR allowed to use the key (repeatable; default any)")
	callbackURL := fs.String("callback-url", "", "kannel: Switchboard's base URL as Kannel's smsbox reaches it")
	secretKey := fs.String("secret-key", "", "kannel: the server's --secret-key, if it is not in DATA/secret.key")
	flagArgs, operands := splitOperands(fs, rest)
	if err := parseFlags(fs, flagArgs); err != nil {
		return err
	}
	db, err := openStore(ctx, sf)
	if err != nil {
		return err
	}
	defer db.Close()

	switch command {
	case "kannel":
		return printKannelService(ctx, db, sf.dataDir, *secretKey, *accountID, *callbackURL, stdout)
	case "accounts":
		return listAccountsForOperator(ctx, db, stdout)
	case "trust-cidr", "untrust-cidr":
		if len(operands) != 1 {
			return fmt.Errorf("%s takes one CIDR, e.g. %s --account 2 203.0.113.0/24", command, command)
		}
		p, ok := switchboard.ParseAddressOrPrefix(operands[0])
		if !ok {
			return fmt.Errorf("%q is not an IP address or CIDR", operands[0])
		}
		svc := provision.New(provision.Config{Store: db})
		if command == "untrust-cidr" {
			if err := svc.RevokeTrust(ctx, *accountID, p); err != nil {
				return adminError(err)
			}
			fmt.Fprintf(stdout, "account %d may no longer trust %s\n", *accountID, p)
			return nil
		}
		g, err := svc.GrantTrust(ctx, *accountID, p)
		if err != nil {
			return adminError(err)
		}
		fmt.Fprintf(stdout, "account %d may now trust %s in its trunks' addresses\n", g.AccountID, g.Prefix)
	case "create-login":
		if _, err := db.GetAccount(ctx, *accountID); err != nil {
			return fmt.Errorf("--account %d: %w", *accountID, err)
		}
		var userID int64
		if *role == string(switchboard.PortalUser) {
			u, err := db.GetUserByExtension(ctx, *accountID, *userExt)
			if err != nil {
				return fmt.Errorf("--user %q: %w", *userExt, err)
			}
			userID = u.ID
		}
		l, password, err := web.Logins{Store: db}.Create(ctx, *accountID, *login, switchboard.PortalRole(*role), userID, "")
		if err != nil {
			return adminError(err)
		}
		fmt.Fprintf(stdout, "portal %s login %q created for account %d. Its password is shown only now:\n%s\n", l.Role, l.Login, l.AccountID, password)
	case "account create":
		if strings.TrimSpace(*name) == "" {
			return fmt.Errorf("--name is required")
		}
		a := &switchboard.Account{ID: *id, Name: *name, PublicEndpoints: *public,
			SIPDomain: strings.ToLower(strings.TrimSuffix(strings.TrimSpace(*sipDomain), "."))}
		if err := db.CreateAccount(ctx, a); err != nil {
			return adminError(err)
		}
		fmt.Fprintf(stdout, "account %d %q created\n", a.ID, a.Name)
	case "account set-domain":
		a, err := provision.New(provision.Config{Store: db}).UpdateAccount(ctx, *accountID, switchboard.AccountChange{SIPDomain: sipDomain})
		if err != nil {
			return adminError(err)
		}
		fmt.Fprintf(stdout, "account %d SIP domain: %q\n", a.ID, a.SIPDomain)
	case "account list":
		accounts, err := db.ListAccounts(ctx)
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "ID\tNAME\tSIP DOMAIN\tPUBLIC ENDPOINTS\tCREATED")
		for _, a := range accounts {
			fmt.Fprintf(w, "%d\t%s\t%s\t%v\t%s\n", a.ID, a.Name, dashIfEmpty(a.SIPDomain),
				a.PublicEndpoints, a.CreatedAt.Format(time.RFC3339))
		}
		return w.Flush()
	case "key create":
		if _, err := db.GetAccount(ctx, *accountID); err != nil {
			return fmt.Errorf("--account %d: %w", *accountID, err)
		}
		for _, ip := range allowIPs {
			if !validIPOrCIDR(ip) {
				return fmt.Errorf("--allow-ip %q is not an IP address or CIDR", ip)
			}
		}
		plaintext, k := switchboard.NewAPIKey(switchboard.APIKeyKind(*kind))
		k.AccountID, k.Name, k.AllowedIPs = *accountID, *name, allowIPs
		switch k.Kind {
		case switchboard.KeyDeveloper:
		case switchboard.KeyUser:
			u, err := db.GetUserByExtension(ctx, *accountID, *userExt)
			if err != nil {
				return fmt.Errorf("--user %q: %w", *userExt, err)
			}
			k.UserID = u.ID
		default:
			return fmt.Errorf("--kind must be developer or user")
		}
		if err := db.CreateAPIKey(ctx, k); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s key %d created. It is shown only now; store it safely:\n%s\n", k.Kind, k.ID, plaintext)
	case "key list":
		keys, err := db.ListAPIKeys(ctx, *accountID)
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "ID\tKIND\tUSER\tNAME\tPREFIX\tALLOWED IPS\tSTATE")
		for _, k := range keys {
			state := "active"
			if k.Revoked() {
				state = "revoked " + k.RevokedAt.Format(time.RFC3339)
			}
			fmt.Fprintf(w, "%d\t%s\t%d\t%s\t%s…\t%s\t%s\n", k.ID, k.Kind, k.UserID, k.Name, k.Prefix, strings.Join(k.AllowedIPs, ","), state)
		}
		return w.Flush()
	case "key revoke":
		if err := db.RevokeAPIKey(ctx, *accountID, *id); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "key %d revoked\n", *id)
	default:
		fmt.Fprint(stderr, adminUsage)
		return errUsage
	}
	return nil
}

func validIPOrCIDR(s string) bool {
	if _, err := netip.ParsePrefix(s); err == nil {
		return true
	}
	_, err := netip.ParseAddr(s)
	return err == nil
}

// oneWordCommands are the admin commands without a subcommand.
var oneWordCommands = map[string]bool{"accounts": true, "trust-cidr": true, "untrust-cidr": true,
	"create-login": true}

func init() { oneWordCommands["kannel"] = true }

// splitOperands separates flags (with their values) from operands wherever they stand, so
// that "trust-cidr --account 2 0.0.0.0/0 --data DIR" parses every flag.
func splitOperands(fs *flag.FlagSet, args []string) (flags, operands []string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return flags, append(operands, args[i+1:]...)
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			operands = append(operands, a)
			continue
		}
		flags = append(flags, a)
		name := strings.TrimLeft(a, "-")
		if strings.Contains(name, "=") {
			continue
		}
		f := fs.Lookup(name)
		if f == nil {
			continue // parseFlags reports it
		}
		if b, ok := f.Value.(interface{ IsBoolFlag() bool }); (!ok || !b.IsBoolFlag()) && i+1 < len(args) {
			i++
			flags = append(flags, args[i])
		}
	}
	return flags, operands
}

// adminError spells out a domain error's per-field problems for the terminal.
func adminError(err error) error {
	var e *switchboard.Error
	if errors.As(err, &e) && len(e.Details) > 0 {
		var parts []string
		for field, problem := range e.Details {
			parts = append(parts, field+" "+problem)
		}
		return fmt.Errorf("refused: %s", strings.Join(parts, "; "))
	}
	return err
}

// listAccountsForOperator prints every account with its trunks, the addresses they trust
// (calls from those to the account's numbers are not challenged) and the operator's grants.
func listAccountsForOperator(ctx context.Context, db switchboard.Store, stdout io.Writer) error {
	accounts, err := db.ListAccounts(ctx)
	if err != nil {
		return err
	}
	grants, err := db.ListTrustGrants(ctx, 0)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tNAME\tSIP DOMAIN\tTRUNKS\tTRUSTED ADDRESSES\tOPERATOR GRANTS\tOUTBOUND LIMITS\tCOUNTRIES")
	for _, a := range accounts {
		trunks, err := db.ListTrunks(ctx, a.ID)
		if err != nil {
			return err
		}
		var names, trusted, granted []string
		for _, t := range trunks {
			names = append(names, fmt.Sprintf("%s (%s)", t.Name, t.Host))
			for _, p := range t.TrunkSources() {
				trusted = append(trusted, p.String())
			}
		}
		for _, g := range grants {
			if g.AccountID == a.ID {
				granted = append(granted, g.Prefix.String())
			}
		}
		fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", a.ID, a.Name, dashIfEmpty(a.SIPDomain), orDash(names),
			orDash(trusted), orDash(granted), outboundLimits(a), countries(a))
	}
	return w.Flush()
}

// outboundLimits shows the account's toll-fraud limits: "calls 5, 600 min/h", or "none".
func outboundLimits(a *switchboard.Account) string {
	var parts []string
	if a.MaxOutboundCalls > 0 {
		parts = append(parts, fmt.Sprintf("calls %d", a.MaxOutboundCalls))
	}
	if a.MaxOutMinutes > 0 {
		parts = append(parts, fmt.Sprintf("%d min/h", a.MaxOutMinutes))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// countries shows where the account may call: its own calling code and the others allowed,
// e.g. "+1", "+1 +44" or "any".
func countries(a *switchboard.Account) string {
	out := []string{"+" + a.HomeCountry()}
	for _, c := range a.AllowedCountries {
		if c == "*" {
			return "any"
		}
		out = append(out, "+"+c)
	}
	return strings.Join(out, " ")
}

func orDash(xs []string) string {
	if len(xs) == 0 {
		return "-"
	}
	return strings.Join(xs, ", ")
}

func dashIfEmpty(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
