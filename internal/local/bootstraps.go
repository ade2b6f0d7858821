package local

import (
	"context"
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Bootstraps are the sizes of the functions' bootstraps as sam build makes
// them (linux/arm64, -tags lambda.norpc -trimpath -ldflags="-s -w"), in
// bytes: what their loaded segments carry, without the zeros the linker
// pads each segment with up to a 64 KiB boundary (padding costs neither
// the zipped package nor a cold start, and counting it made a 64-byte
// change move a function by 64 KiB).
type Bootstraps struct {
	Sizes  map[string]int64  // by function folder
	Kinds  map[string]string // "mail" when the function links the SES client, "dynamodb" the DynamoDB one, else "other"
	Floors map[string]int64  // "dynamodb" and "mail": the runtime, the adapter and the kind's SDK clients, no code of ours
}

// Floor is the floor a function of kind is measured against ("other"
// functions, which link neither client, against the DynamoDB floor).
func (b Bootstraps) Floor(kind string) int64 {
	if kind == "mail" {
		return b.Floors["mail"]
	}
	return b.Floors["dynamodb"]
}

// FloorSources is where the floors' programs are, under the project root.
const FloorSources = "tests/lambda/testdata/floor"

// MeasureBootstraps builds every function and both floors into dir.
func MeasureBootstraps(ctx context.Context, root, dir string) (Bootstraps, error) {
	b := Bootstraps{Sizes: map[string]int64{}, Kinds: map[string]string{}, Floors: map[string]int64{}}
	if err := BuildFunctions(ctx, root, dir, "linux", "arm64"); err != nil {
		return b, err
	}
	for _, kind := range []string{"dynamodb", "mail"} {
		out := filepath.Join(dir, "floor-"+kind)
		cmd := exec.CommandContext(ctx, "go", "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w", "-o", out, "./"+FloorSources+"/"+kind)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=arm64")
		if msg, err := cmd.CombinedOutput(); err != nil {
			return b, fmt.Errorf("build the %s floor: %v\n%s", kind, err, msg)
		}
		n, err := loadedBytes(out)
		if err != nil {
			return b, err
		}
		b.Floors[kind] = n
	}
	entries, err := os.ReadDir(filepath.Join(root, "functions"))
	if err != nil {
		return b, err
	}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		n := e.Name()
		size, err := loadedBytes(filepath.Join(dir, n))
		if err != nil {
			return b, err
		}
		b.Sizes[n] = size
		list := exec.CommandContext(ctx, "go", "list", "-tags", "lambda.norpc", "-deps", "./functions/"+n)
		list.Dir = root
		deps, err := list.Output()
		if err != nil {
			return b, fmt.Errorf("go list -deps ./functions/%s: %w", n, err)
		}
		switch {
		case strings.Contains(string(deps), "github.com/aws/aws-sdk-go-v2/service/sesv2\n"):
			b.Kinds[n] = "mail"
		case strings.Contains(string(deps), "github.com/aws/aws-sdk-go-v2/service/dynamodb\n"):
			b.Kinds[n] = "dynamodb"
		default:
			b.Kinds[n] = "other"
		}
	}
	return b, nil
}

// loadedBytes is the sum of an executable's loadable segments' file sizes.
func loadedBytes(path string) (int64, error) {
	f, err := elf.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var n int64
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD {
			n += int64(p.Filesz)
		}
	}
	return n, nil
}
