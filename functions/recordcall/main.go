// Command recordcall is the RecordCallFunction Lambda: wiring only.
package main

import (
	"github.com/teamusers/usersapi/internal/httpapi"
	"github.com/teamusers/usersapi/internal/lambdaapp"
)

func main() {
	app := lambdaapp.MustLoad()
	deps := httpapi.NewDeps(app.Store, nil, app.Config.Policy, app.Log, app.Metrics)
	lambdaapp.StartHTTP(httpapi.RecordCall(deps))
}
