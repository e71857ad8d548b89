package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// newFlagSet is the flag set of one command: errors and the usage go to stderr, the usage
// being text followed by the flags' defaults.
func newFlagSet(name string, stderr io.Writer, text string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, text)
		fs.PrintDefaults()
	}
	return fs
}

// envName is the environment twin of a flag: --webhook-allow-cidr -> SWITCHBOARD_WEBHOOK_ALLOW_CIDR.
func envName(flagName string) string {
	return "SWITCHBOARD_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// parseFlags parses args, then fills every flag not given on the command line from its
// environment twin, so that either way of configuring works and the command line wins.
// A repeatable flag takes a comma-separated list from the environment.
func parseFlags(fs *flag.FlagSet, args []string) error {
	fs.VisitAll(func(f *flag.Flag) {
		f.Usage += fmt.Sprintf(" [$%s]", envName(f.Name))
	})
	if err := fs.Parse(args); err != nil {
		return err
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		v, ok := os.LookupEnv(envName(f.Name))
		if given[f.Name] || !ok || err != nil {
			return
		}
		values := []string{v}
		if _, repeatable := f.Value.(*stringList); repeatable {
			values = strings.Split(v, ",")
		}
		for _, one := range values {
			if e := f.Value.Set(strings.TrimSpace(one)); e != nil {
				err = fmt.Errorf("environment variable %s=%q: %v", envName(f.Name), v, e)
			}
		}
	})
	return err
}

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error {
	if v != "" {
		*l = append(*l, v)
	}
	return nil
}
