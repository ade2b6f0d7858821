// Command dynamodb is the size floor of a DynamoDB function: the Lambda
// runtime, the API Gateway adapter, the time zone database and a DynamoDB
// client built from the environment, with one call and no code of ours.
// size_test.go measures every function against it.
package main

import (
	"context"
	"net/http"
	"os"
	// The zone database: Lambda's provided.al2023 has none, and every
	// function counts days in NightlyTimeZone (lambdaapp imports it too).
	_ "time/tzdata"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"
)

func main() {
	cfg := aws.Config{Region: os.Getenv("AWS_REGION"), Credentials: credentials.NewStaticCredentialsProvider(
		os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY"), os.Getenv("AWS_SESSION_TOKEN"))}
	db := dynamodb.NewFromConfig(cfg)
	lambda.Start(httpadapter.NewV2(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = db.GetItem(context.Background(), &dynamodb.GetItemInput{})
	})).ProxyWithContext)
}
