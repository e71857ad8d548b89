// Command switchboard is a cloud PBX in one binary: it serves the REST API, delivers
// webhooks and (with later work) registers SIP phones and bridges calls.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `Switchboard — a cloud PBX in one binary.

Usage:
  switchboard serve   [flags]   run the server (REST API, webhooks); applies migrations first
  switchboard migrate [flags]   apply database migrations and exit
  switchboard admin   <command> create accounts and API keys, list and revoke keys
  switchboard help    [command] show help for a command

Try it in one line:
  switchboard serve --demo
      seeds account 61 with users 1001-1003, queues, numbers and API keys, writes them to
      ./switchboard-data/demo.json, and serves http://127.0.0.1:8080 (API reference at /docs).

Every flag also reads an environment variable: --db is $SWITCHBOARD_DB, --http is
$SWITCHBOARD_HTTP, and so on. Run "switchboard help serve" for the server's flags.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp): // help was asked for and shown
	case errors.Is(err, errUsage):
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "switchboard:", err)
		os.Exit(1)
	}
}

// errUsage means the command line could not be understood; the usage has been printed.
var errUsage = errors.New("usage")

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errUsage
	}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "serve":
		return serve(ctx, rest, stdout, stderr)
	case "migrate":
		return migrate(ctx, rest, stdout, stderr)
	case "admin":
		return admin(ctx, rest, stdout, stderr)
	case "help", "-h", "-help", "--help":
		if len(rest) > 0 {
			return run(ctx, []string{rest[0], "--help"}, stdout, stderr)
		}
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprintf(stderr, "unknown command %q\n\n%s", cmd, usage)
		return errUsage
	}
}
