// Package testkit holds what the test and benchmark packages share beyond
// the local stack itself (internal/local).
package testkit

import (
	"fmt"
	"os"
	"os/exec"
)

// Chromium finds Debian's chromium (make deps installs it), or the browser
// named by $CHROMIUM; what names the tests that need it in the error.
func Chromium(what string) (string, error) {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p, nil
	}
	for _, name := range []string{"/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s need Chromium: run `make deps` (as root where apt-get exists), "+
		"or `sudo apt-get install -y chromium`, or set CHROMIUM=/path/to/chrome", what)
}
