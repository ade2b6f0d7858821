package samtemplate

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Timeouts come from the function, else from Globals, else Lambda's default.
func TestTimeoutMergesGlobals(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	fn := `
  Own:
    Type: AWS::Serverless::Function
    Properties: {Handler: bootstrap, Runtime: provided.al2023, CodeUri: ., Timeout: 29}
  Inherits:
    Type: AWS::Serverless::Function
    Properties: {Handler: bootstrap, Runtime: provided.al2023, CodeUri: .}
`
	withGlobals := write("g.yaml", "Transform: AWS::Serverless-2016-10-31\nGlobals:\n  Function:\n    Timeout: 10\nResources:"+fn)
	without := write("n.yaml", "Transform: AWS::Serverless-2016-10-31\nResources:"+fn)
	for _, c := range []struct {
		path, fn string
		want     time.Duration
	}{
		{withGlobals, "Own", 29 * time.Second},
		{withGlobals, "Inherits", 10 * time.Second},
		{without, "Own", 29 * time.Second},
		{without, "Inherits", DefaultTimeout},
	} {
		tmpl, err := Load(c.path)
		if err != nil {
			t.Fatal(err)
		}
		if got := tmpl.Timeout(c.fn); got != c.want {
			t.Errorf("%s %s: %v, want %v", filepath.Base(c.path), c.fn, got, c.want)
		}
	}
}

// The project's own template: API functions inherit 10 s, the CSV and
// report functions set 29 s, and no API function outlives the HTTP API's
// 30-second integration limit.
func TestProjectTimeouts(t *testing.T) {
	tmpl, err := Load(filepath.Join("..", "..", "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if got := tmpl.Timeout("GetSummaryFunction"); got != 10*time.Second {
		t.Errorf("GetSummaryFunction: %v", got)
	}
	if got := tmpl.Timeout("CsvSelectionFunction"); got != 29*time.Second {
		t.Errorf("CsvSelectionFunction: %v", got)
	}
	for _, r := range tmpl.Routes() {
		if d := tmpl.Timeout(r.Function); d > 30*time.Second {
			t.Errorf("%s (%s) times out after %v, past the HTTP API's 30 s", r.Function, r.Pattern(), d)
		}
	}
}

// Memory comes from the function, else from Globals, else Lambda's default.
func TestMemorySizeMergesGlobals(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "g.yaml")
	body := "Transform: AWS::Serverless-2016-10-31\nGlobals:\n  Function:\n    MemorySize: 256\nResources:\n" +
		"  Own:\n    Type: AWS::Serverless::Function\n    Properties: {Handler: bootstrap, Runtime: provided.al2023, CodeUri: ., MemorySize: 512}\n" +
		"  Inherits:\n    Type: AWS::Serverless::Function\n    Properties: {Handler: bootstrap, Runtime: provided.al2023, CodeUri: .}\n"
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	tmpl, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if own, inh := tmpl.MemorySize("Own"), tmpl.MemorySize("Inherits"); own != 512 || inh != 256 {
		t.Fatalf("own %d, inherits %d", own, inh)
	}
	n := filepath.Join(dir, "n.yaml")
	_ = os.WriteFile(n, []byte("Transform: AWS::Serverless-2016-10-31\nResources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties: {Handler: bootstrap, Runtime: provided.al2023, CodeUri: .}\n"), 0o644)
	if tmpl, err = Load(n); err != nil || tmpl.MemorySize("Fn") != DefaultMemorySize {
		t.Fatalf("default: %v", err)
	}
}
