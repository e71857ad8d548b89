package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"text/tabwriter"
	"time"

	"switchboard"
)

const adminUsage = `Usage: switchboard admin <command> [flags]

Commands:
  account create --name NAME [--id N] [--public]   create an account (prints its id)
  account list                                     list accounts
  key create --account N --kind developer|user [--user EXTENSION] [--name NAME] [--allow-ip CIDR ...]
                                                   create an API key; the key is printed once
  key list --account N                             list an account's keys (never the keys themselves)
  key revoke --account N --id KEY_ID               revoke a key at once

Every command also takes --data DIR and --db URL (see "switchboard help serve").
`

func admin(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 1 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
		fmt.Fprint(stderr, adminUsage)
		return flag.ErrHelp
	}
	if len(args) < 2 {
		fmt.Fprint(stderr, adminUsage)
		return errUsage
	}
	fs := newFlagSet("admin "+args[0]+" "+args[1], stderr, adminUsage+"\nFlags:\n")
	sf := addStorageFlags(fs)
	var (
		name      = fs.String("name", "", "name of the account or key")
		id        = fs.Int64("id", 0, "account id to create, or key id to revoke")
		public    = fs.Bool("public", false, "enable the public (no-key) endpoints for the account")
		accountID = fs.Int64("account", 0, "account id")
		kind      = fs.String("kind", "developer", "key kind: developer (whole account) or user (one user)")
		userExt   = fs.String("user", "", "extension of the user a user key belongs to")
		allowIPs  stringList
	)
	fs.Var(&allowIPs, "allow-ip", "IP or CIDR allowed to use the key (repeatable; default any)")
	if err := parseFlags(fs, args[2:]); err != nil {
		return err
	}
	db, err := openStore(ctx, sf)
	if err != nil {
		return err
	}
	defer db.Close()

	switch args[0] + " " + args[1] {
	case "account create":
		if strings.TrimSpace(*name) == "" {
			return fmt.Errorf("--name is required")
		}
		a := &switchboard.Account{ID: *id, Name: *name, PublicEndpoints: *public}
		if err := db.CreateAccount(ctx, a); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "account %d %q created\n", a.ID, a.Name)
	case "account list":
		accounts, err := db.ListAccounts(ctx)
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "ID\tNAME\tPUBLIC ENDPOINTS\tCREATED")
		for _, a := range accounts {
			fmt.Fprintf(w, "%d\t%s\t%v\t%s\n", a.ID, a.Name, a.PublicEndpoints, a.CreatedAt.Format(time.RFC3339))
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
