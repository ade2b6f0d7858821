// Command emailusagereport is the EmailUsageReportFunction Lambda: wiring only.
package main

import (
	"github.com/teamusers/usersapi/internal/httpapi"
	"github.com/teamusers/usersapi/internal/lambdaapp"
)

func main() {
	app := lambdaapp.MustLoad()
	lambdaapp.StartHTTP(httpapi.Lookup("EmailUsageReportFunction").Handler(app.Deps()))
}
