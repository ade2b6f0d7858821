// Command mail is the size floor of a function that also sends mail: the
// DynamoDB floor plus an SES v2 client, with one call each.
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
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"
)

func main() {
	cfg := aws.Config{Region: os.Getenv("AWS_REGION"), Credentials: credentials.NewStaticCredentialsProvider(
		os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY"), os.Getenv("AWS_SESSION_TOKEN"))}
	db := dynamodb.NewFromConfig(cfg)
	ses := sesv2.NewFromConfig(cfg)
	lambda.Start(httpadapter.NewV2(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = db.GetItem(context.Background(), &dynamodb.GetItemInput{})
		_, _ = ses.SendEmail(context.Background(), &sesv2.SendEmailInput{})
	})).ProxyWithContext)
}
