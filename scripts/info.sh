#!/usr/bin/env bash
# Prints what a developer needs from the running stack.
set -euo pipefail
run=${RUN_DIR:-.state/run}
j() { python3 -c "import json,sys; d=json.load(open('$run/info.json')); print(eval(sys.argv[1]))" "$1"; }
api=$(j 'd["apiUrl"]'); team=$(j 'd["demo"]["teamId"]'); admin=$(j 'd["demo"]["adminEmail"]')
params=$(j 'd.get("parameterOverrides") or "none (the template defaults)"')
callers=$(j '",".join(chr(34) + i + chr(34) for i in d["demo"].get("callerIds") or [])')
token=$(.state/bin/devctl token -email "$admin")
faults=$(python3 -c "import json,sys; f=json.load(open(sys.argv[1])).get('faults') or {}; print('rate %g, index lag %d ms (make faults: what was injected so far)' % (f.get('rate', 0), f.get('indexLagMs', 0)) if f.get('rate') or f.get('indexLagMs') else 'none (make run FAULT_RATE=0.1 for a hostile stack)')" "$run/info.json")
cat <<TXT

  The Users API is running on the local stack.

  Users page     $api/   (sign in as $admin)
  API            $api
  Mail viewer    $(j 'd["mailViewerUrl"]')
  DynamoDB       $(j 'd["dynamodbEndpoint"]')  (table $(j 'd["tableName"]'))
  Demo team      $team  (pro, 150 members; also $(j 'd["demo"]["otherTeamId"]') pro and $(j 'd["demo"]["freeTeamId"]') free)
  Admin          $admin   (a user-role member: $(j 'd["demo"]["userEmail"]'))
  Parameters     $params
  Email cooldown $(j 'd.get("emailCooldownSeconds", 600)') s between two invitation or instruction emails to one member
                 (to change it: make stop; make run PARAMETER_OVERRIDES="EmailCooldownSeconds=0")
  Faults         $faults

  Try (after the export below):
    curl -s -H "Authorization: Bearer \$TOKEN" $api/v1/teams/$team/summary
    curl -s -H "Authorization: Bearer \$TOKEN" "$api/v1/teams/$team/members?status=active&sort=lastActive&order=desc&limit=5"
    curl -s -H "Authorization: Bearer \$TOKEN" -H "Content-Type: application/json" -d '{"memberIds":[$callers]}' $api/v1/teams/$team/usage-report

  make token EMAIL=…   another caller's token      make stop   stop everything
  Logs: $run/*.log

export TOKEN=$token
TXT
