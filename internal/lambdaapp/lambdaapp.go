// Package lambdaapp is the start-up of every function: configuration from
// the environment, parsed and checked once; AWS clients built once per cold
// start; and the adapter from API Gateway v2 events to net/http handlers.
package lambdaapp

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/teamusers/usersapi/internal/dynamo"
	"github.com/teamusers/usersapi/internal/httpapi"
)

// Config is the functions' environment.
type Config struct {
	TableName        string // TABLE_NAME
	CursorSecret     []byte // CURSOR_SECRET, at least 32 bytes for functions that serve HTTP
	DynamoDBEndpoint string // DYNAMODB_ENDPOINT, only to point at a local server
}

// ConfigFromEnv parses and checks the environment.
func ConfigFromEnv() (Config, error) {
	c := Config{
		TableName:        os.Getenv("TABLE_NAME"),
		CursorSecret:     []byte(os.Getenv("CURSOR_SECRET")),
		DynamoDBEndpoint: os.Getenv("DYNAMODB_ENDPOINT"),
	}
	if c.TableName == "" {
		return c, fmt.Errorf("TABLE_NAME is not set")
	}
	return c, nil
}

// App is what a function is built from.
type App struct {
	Config Config
	Store  *dynamo.Store
	Log    *slog.Logger
}

// NewDynamoDB builds a DynamoDB client, pointed at endpoint when set.
func NewDynamoDB(cfg aws.Config, endpoint string) *dynamodb.Client {
	return dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
	})
}

// Load reads the configuration and builds the clients.
func Load(ctx context.Context) (*App, error) {
	c, err := ConfigFromEnv()
	if err != nil {
		return nil, err
	}
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("aws config: %w", err)
	}
	log := lambdacontext.NewLogger()
	slog.SetDefault(log)
	return &App{Config: c, Store: dynamo.New(NewDynamoDB(awsCfg, c.DynamoDBEndpoint), c.TableName), Log: log}, nil
}

// MustLoad is Load for main: a function that cannot start says why and exits.
func MustLoad() *App {
	app, err := Load(context.Background())
	if err != nil {
		slog.Error("cannot start", "error", err.Error())
		os.Exit(1)
	}
	return app
}

// Deps are the HTTP handlers' dependencies. List cursors are signed, so a
// function that serves HTTP refuses to start without a real secret.
func (a *App) Deps() httpapi.Deps {
	if len(a.Config.CursorSecret) < 32 {
		a.Log.Error("cannot start", "error", "CURSOR_SECRET must be at least 32 bytes")
		os.Exit(1)
	}
	return httpapi.Deps{Store: a.Store, Cursors: httpapi.NewCursors(a.Config.CursorSecret), Log: a.Log, Now: time.Now}
}

// StartHTTP serves an HTTP handler as a Lambda behind an HTTP API (payload
// format 2.0). ProxyWithContext makes the invocation's deadline the
// request's context.
func StartHTTP(h http.Handler) {
	lambda.Start(httpadapter.NewV2(h).ProxyWithContext)
}
