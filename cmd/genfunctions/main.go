// Command genfunctions writes what the route table (httpapi.Endpoints)
// makes: every HTTP function's main and the local gateway's constructors
// (internal/httpapi/gen). Run from anywhere in the project:
// go generate ./internal/httpapi.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/teamusers/usersapi/internal/httpapi/gen"
	"github.com/teamusers/usersapi/internal/samtemplate"
)

func main() {
	root, err := samtemplate.FindRoot()
	if err != nil {
		fail(err)
	}
	for path, src := range gen.Files() {
		p := filepath.Join(root, path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			fail(err)
		}
		if err := os.WriteFile(p, src, 0o644); err != nil {
			fail(err)
		}
	}
	fmt.Printf("genfunctions: %d files\n", len(gen.Files()))
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "genfunctions:", err)
	os.Exit(1)
}
