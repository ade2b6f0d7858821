// Command getme is the GetMeFunction Lambda: wiring only.
package main

import (
	"github.com/teamusers/usersapi/internal/httpapi"
	"github.com/teamusers/usersapi/internal/lambdaapp"
)

func main() {
	app := lambdaapp.MustLoad()
	lambdaapp.StartHTTP(httpapi.Lookup("GetMeFunction").Handler(app.Deps()))
}
