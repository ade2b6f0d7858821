// Command resendallinvites is the ResendAllInvitesFunction Lambda: wiring only.
package main

import (
	"github.com/teamusers/usersapi/internal/httpapi"
	"github.com/teamusers/usersapi/internal/lambdaapp"
)

func main() {
	app := lambdaapp.MustLoad()
	lambdaapp.StartHTTP(httpapi.Lookup("ResendAllInvitesFunction").Handler(app.Deps()))
}
