// Command invite is the InviteFunction Lambda: wiring only.
package main

import (
	"github.com/teamusers/usersapi/internal/httpapi"
	"github.com/teamusers/usersapi/internal/lambdaapp"
)

func main() {
	app := lambdaapp.MustLoad()
	lambdaapp.StartHTTP(httpapi.Lookup("InviteFunction").Handler(app.Deps()))
}
