package local

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"

	"github.com/teamusers/usersapi/internal/lambdaapp"
	"github.com/teamusers/usersapi/internal/samtemplate"
)

// Region is the region the local clients claim; the local servers accept any.
const Region = "us-east-1"

// Services are the local stand-ins for DynamoDB (with Streams) and SES v2.
type Services struct {
	DynamoDBEndpoint string
	SESEndpoint      string
	procs            []*exec.Cmd
}

// ServiceOptions say where the stand-ins listen and where they log.
type ServiceOptions struct {
	Root                  string       // project root (node_modules, .venv, scripts)
	StateDir              string       // logs
	DynamoDBPort, SESPort int          // 0 picks a free port
	Faults                FaultOptions // the DynamoDB stand-in's faults at start (SES's are the proxy's)
}

// StartServices starts moto and aws-ses-v2-local, bound to 127.0.0.1, and
// waits until both answer. The children die with this process.
func StartServices(ctx context.Context, o ServiceOptions) (*Services, error) {
	if err := os.MkdirAll(o.StateDir, 0o755); err != nil {
		return nil, err
	}
	s := &Services{}
	var err error
	if o.DynamoDBPort == 0 {
		if o.DynamoDBPort, err = freePort(); err != nil {
			return nil, err
		}
	}
	if o.SESPort == 0 {
		if o.SESPort, err = freePort(); err != nil {
			return nil, err
		}
	}
	python := filepath.Join(o.Root, ".venv", "bin", "python")
	motoArgs := []string{filepath.Join(o.Root, "scripts", "moto_server.py"), "--host", "127.0.0.1", "--port", fmt.Sprint(o.DynamoDBPort),
		"--fault-rate", fmt.Sprint(o.Faults.Rate), "--index-lag-ms", fmt.Sprint(o.Faults.IndexLag.Milliseconds())}
	if o.Faults.Seed != 0 {
		motoArgs = append(motoArgs, "--seed", fmt.Sprint(o.Faults.Seed))
	}
	moto := exec.Command(python, motoArgs...)
	ses := exec.Command("node", filepath.Join(o.Root, "node_modules", "aws-ses-v2-local", "dist", "cli.js"), "--host", "127.0.0.1", "--port", fmt.Sprint(o.SESPort))
	for _, c := range []struct {
		cmd *exec.Cmd
		log string
	}{{moto, "dynamodb.log"}, {ses, "ses.log"}} {
		f, err := os.Create(filepath.Join(o.StateDir, c.log))
		if err != nil {
			s.Stop()
			return nil, err
		}
		c.cmd.Stdout, c.cmd.Stderr = f, f
		c.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM, Setpgid: true}
		if err := c.cmd.Start(); err != nil {
			s.Stop()
			return nil, fmt.Errorf("start %s: %w (run `make deps`?)", c.cmd.Path, err)
		}
		s.procs = append(s.procs, c.cmd)
	}
	s.DynamoDBEndpoint = fmt.Sprintf("http://127.0.0.1:%d", o.DynamoDBPort)
	s.SESEndpoint = fmt.Sprintf("http://127.0.0.1:%d", o.SESPort)
	deadline := time.Now().Add(60 * time.Second)
	db := NewDynamoDB(s.DynamoDBEndpoint)
	for _, probe := range []func() error{
		func() error {
			_, err := db.ListTables(ctx, &dynamodb.ListTablesInput{})
			return err
		},
		func() error { return httpOK(s.SESEndpoint + "/health-check") },
	} {
		for {
			err := probe()
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				s.Stop()
				return nil, fmt.Errorf("local services did not start (logs in %s): %w", o.StateDir, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	return s, nil
}

// DynamoDBFaults is the handle on the DynamoDB stand-in's faults.
func (s *Services) DynamoDBFaults() FaultControl { return FaultControl{Endpoint: s.DynamoDBEndpoint} }

// Stop ends the stand-ins.
func (s *Services) Stop() {
	for _, c := range s.procs {
		if c.Process != nil {
			_ = syscall.Kill(-c.Process.Pid, syscall.SIGTERM)
		}
	}
	for _, c := range s.procs {
		_ = c.Wait()
	}
	s.procs = nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func httpOK(url string) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", url, resp.Status)
	}
	return nil
}

// AWSConfig is the SDK configuration for the local servers: static
// credentials, a fixed region.
func AWSConfig() aws.Config {
	return aws.Config{
		Region:      Region,
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", ""),
	}
}

// NewDynamoDB is a client of the local DynamoDB server.
func NewDynamoDB(endpoint string) *dynamodb.Client {
	return lambdaapp.NewDynamoDB(AWSConfig(), endpoint)
}

// NewStreams is a client of the local DynamoDB Streams API (moto serves it
// on the same endpoint).
func NewStreams(endpoint string) *dynamodbstreams.Client {
	return dynamodbstreams.NewFromConfig(AWSConfig(), func(o *dynamodbstreams.Options) {
		o.BaseEndpoint = aws.String(endpoint)
	})
}

// EnsureTable creates a table from the template's definition of the
// resource logicalID, unless it exists already.
func EnsureTable(ctx context.Context, db *dynamodb.Client, tmpl *samtemplate.Template, logicalID, name string) error {
	in, err := tmpl.CreateTableInput(logicalID, name)
	if err != nil {
		return err
	}
	_, err = db.CreateTable(ctx, in)
	var inUse *types.ResourceInUseException
	if err != nil && !errors.As(err, &inUse) && !strings.Contains(err.Error(), "ResourceInUse") {
		return fmt.Errorf("create table %s: %w", name, err)
	}
	if attr, ok := tmpl.TimeToLive(logicalID); ok {
		// As CloudFormation turns it on: the local DynamoDB then deletes
		// expired items (scripts/moto_server.py, "Time to live").
		if _, err := db.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{TableName: aws.String(name),
			TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String(attr), Enabled: aws.Bool(true)}}); err != nil {
			return fmt.Errorf("time to live of %s: %w", name, err)
		}
	}
	return nil
}

// ExpireUntil has the local DynamoDB delete, as DynamoDB's TTL does, every
// item whose TTL instant is at or before t (it does so for the present
// every second on its own): for tests that travel in time. It returns how
// many it deleted.
func (s *Services) ExpireUntil(ctx context.Context, t time.Time) (int, error) {
	body, _ := json.Marshal(map[string]int64{"expireUntil": t.Unix()})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.DynamoDBEndpoint+"/_moto", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var out struct {
		Expired int    `json:"expired"`
		Message string `json:"message"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("expire until %v: %s %s %v", t, resp.Status, out.Message, err)
	}
	return out.Expired, nil
}

// SetQueryMode switches how the local DynamoDB answers a Query
// (scripts/moto_server.py, "Sorted indexes"): "sorted", its default, or a
// baseline, "walk" (every item, moto's sort: the path before the sorted
// indexes) or "moto" (moto's own query). The benchmarks compare them.
func (s *Services) SetQueryMode(ctx context.Context, mode string) error {
	body, _ := json.Marshal(map[string]string{"queryMode": mode})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.DynamoDBEndpoint+"/_moto", bytes.NewReader(body))
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("query mode %q: %s %s", mode, resp.Status, bytes.TrimSpace(b))
	}
	return nil
}
