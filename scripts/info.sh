#!/usr/bin/env bash
# Prints what a developer needs from the running stack.
set -euo pipefail
run=${RUN_DIR:-.state/run}
j() { python3 -c "import json,sys; d=json.load(open('$run/info.json')); print(eval(sys.argv[1]))" "$1"; }
api=$(j 'd["apiUrl"]'); team=$(j 'd["demo"]["teamId"]'); admin=$(j 'd["demo"]["adminEmail"]')
token=$(.state/bin/devctl token -email "$admin")
cat <<TXT

  The Users API is running on the local stack.

  Users page     $api/?team=$team   (sign in as $admin)
  API            $api
  Mail viewer    $(j 'd["mailViewerUrl"]')
  DynamoDB       $(j 'd["dynamodbEndpoint"]')  (table $(j 'd["tableName"]'))
  Demo team      $team  (pro, 150 members; also $(j 'd["demo"]["otherTeamId"]') pro and $(j 'd["demo"]["freeTeamId"]') free)
  Admin          $admin   (a user-role member: $(j 'd["demo"]["userEmail"]'))

  Try:
    curl -s -H "Authorization: Bearer \$TOKEN" $api/v1/teams/$team/summary
    curl -s -H "Authorization: Bearer \$TOKEN" "$api/v1/teams/$team/members?status=active&sort=lastActive&order=desc&limit=5"

  make token EMAIL=…   another caller's token      make stop   stop everything
  Logs: $run/*.log

TOKEN=$token
TXT
