package local

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// BuildFunctions builds every function's bootstrap into dir/<name> with
// the flags sam build uses (the `build-%Function` target), for goos and
// goarch ("" for this machine): one go build, which links them in parallel.
func BuildFunctions(ctx context.Context, root, dir, goos, goarch string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w", "-o", dir+string(filepath.Separator), "./functions/...")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if goos != "" {
		cmd.Env = append(cmd.Env, "GOOS="+goos, "GOARCH="+goarch)
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build functions: %v\n%s", err, out)
	}
	return nil
}

// Emulator runs one bootstrap under the Lambda runtime interface emulator
// (aws-lambda-rie), as the Lambda service runs it. It serves one invocation
// at a time (a second concurrent one crashes it), so Invoke serialises.
type Emulator struct {
	cmd  *exec.Cmd
	url  string
	mu   sync.Mutex // one invocation at a time
	logs *LogBuffer
	done chan struct{} // closed when the emulator has exited
}

// LogBuffer keeps what a process or a logger wrote; goroutines may write
// to it at once and read it while they do.
type LogBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *LogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *LogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// StartEmulator serves bootstrap under the emulator at rie, on two free
// loopback ports, with env added to this process's environment, and waits
// until it listens. The bootstrap starts (its cold start) at the first
// invocation. A port taken between choosing and binding it (another
// emulator started at the same moment) makes the emulator exit: it is
// started again on other ports.
func StartEmulator(rie, bootstrap string, env []string) (*Emulator, error) {
	var last error
	for range 5 {
		e, err := startEmulator(rie, bootstrap, env)
		if err == nil {
			return e, nil
		}
		last = err
	}
	return nil, last
}

func startEmulator(rie, bootstrap string, env []string) (*Emulator, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	apiPort, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	e := &Emulator{url: "http://" + addr + "/2015-03-31/functions/function/invocations", logs: &LogBuffer{}, done: make(chan struct{})}
	e.cmd = exec.Command(rie, "--runtime-interface-emulator-address", addr,
		"--runtime-api-address", fmt.Sprintf("127.0.0.1:%d", apiPort), bootstrap)
	e.cmd.Env = append(os.Environ(), env...)
	e.cmd.Stdout, e.cmd.Stderr = e.logs, e.logs
	e.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	if err := e.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w (run `make deps`?)", rie, err)
	}
	go func() { _ = e.cmd.Wait(); close(e.done) }()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return e, nil
		}
		select {
		case <-e.done:
			return nil, fmt.Errorf("the emulator exited:\n%s", e.logs.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			e.Stop()
			return nil, fmt.Errorf("the emulator did not listen on %s:\n%s", addr, e.logs.String())
		}
	}
}

// Invoke sends one event and returns the function's answer (a function
// error comes back as the emulator's error document).
func (e *Emulator) Invoke(ctx context.Context, event []byte) ([]byte, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.url, bytes.NewReader(event))
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("the emulator did not answer: %w", err)
	}
	defer resp.Body.Close()
	return io.ReadAll(resp.Body)
}

// Logs is everything the emulator and the function wrote so far.
func (e *Emulator) Logs() string { return e.logs.String() }

var initReport = regexp.MustCompile(`INIT REPORT\(durationMs: ([0-9.]+)\)`)

// InitDurations are the cold starts' init durations the emulator reported
// (its REPORT line's "Init Duration" is wrong; its INIT REPORT line is not).
func (e *Emulator) InitDurations() []float64 {
	var out []float64
	for _, m := range initReport.FindAllStringSubmatch(e.Logs(), -1) {
		if v, err := strconv.ParseFloat(m[1], 64); err == nil {
			out = append(out, v)
		}
	}
	return out
}

// Stop ends the emulator and the function.
func (e *Emulator) Stop() {
	if e.cmd.Process != nil {
		_ = syscall.Kill(-e.cmd.Process.Pid, syscall.SIGKILL)
		<-e.done
	}
}
