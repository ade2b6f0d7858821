package gen_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/teamusers/usersapi/internal/httpapi/gen"
	"github.com/teamusers/usersapi/internal/samtemplate"
)

// Every file the route table makes is as the table says: adding an
// endpoint is its row, its handler and its OpenAPI entry, then `go
// generate ./internal/httpapi` (TestRoutesAgree holds the template's
// function and events to the same table).
func TestGeneratedFilesAreCurrent(t *testing.T) {
	root, err := samtemplate.FindRoot()
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range gen.Files() {
		got, err := os.ReadFile(filepath.Join(root, path))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s is not what httpapi.Endpoints makes (%v): run go generate ./internal/httpapi", path, err)
		}
	}
}
