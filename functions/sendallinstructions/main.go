// Command sendallinstructions is the SendAllInstructionsFunction Lambda: wiring only.
package main

import (
	"github.com/teamusers/usersapi/internal/httpapi"
	"github.com/teamusers/usersapi/internal/lambdaapp"
)

func main() {
	app := lambdaapp.MustLoad()
	lambdaapp.StartHTTP(httpapi.Lookup("SendAllInstructionsFunction").Handler(app.Deps()))
}
