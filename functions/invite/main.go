// Command invite is the InviteFunction Lambda: wiring only.
package main

import (
	"github.com/teamusers/usersapi/internal/httpapi"
	"github.com/teamusers/usersapi/internal/lambdaapp"
	"github.com/teamusers/usersapi/internal/secrets"
)

func main() {
	app := lambdaapp.MustLoad()
	// It seals invitation tokens with the application secret, so it reads it.
	deps := httpapi.NewDeps(app.Store, secrets.MustLoad(app), app.Config.Policy, app.Log, app.Metrics)
	lambdaapp.StartHTTP(httpapi.Invite(deps))
}
