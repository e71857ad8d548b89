// Package testpeer finds the real SIP peers (SIPp, baresip) that integration tests drive.
package testpeer

import (
	"os"
	"os/exec"
	"testing"
)

// Require returns the path of the program name. When it is missing the test is skipped on a
// developer's machine, but fails under CI (CI=true), where .ci/run installs it: a peer that
// silently went missing must not turn the suite green.
func Require(t testing.TB, name, debianPackage string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	msg := name + " is not installed (apt-get install -y " + debianPackage + ")"
	if os.Getenv("CI") != "" {
		t.Fatal(msg + "; .ci/run should have installed it")
	}
	t.Skip(msg + "; CI installs it")
	return ""
}
