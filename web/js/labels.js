// The words the help article uses ("Users page in Pro Admin Portal"); the
// page shows these, never the API's codes.

export const STATUS = {
  active: 'Active',
  invitation_sent: 'Invitation sent',
  pending_app_login: 'Pending app login',
  signed_in_with_app: 'Signed in with app',
  deactivated: 'Deactivated',
};

export const STATUS_HELP = {
  active: 'accepted the invitation and signed in to the app',
  invitation_sent: 'has not accepted the invitation',
  pending_app_login: 'accepted the invitation but has not signed in to the app yet',
  signed_in_with_app: 'signed in to the app a long time ago; the data is archived',
  deactivated: 'turned off by an admin or the identity provider: no seat, no sign-in; shown only with this filter',
};

export const LAST_CALL = {
  pending: 'Pending',
  not_active: 'Not active',
  recently: 'Recently',
  last_7_days: 'Last 7 days',
  last_30_days: 'Last 30 days',
  more_than_30_days: 'More than 30 days',
};

export const LAST_CALL_HELP = {
  pending: 'did not join the team',
  not_active: 'joined but did not use the app',
  recently: 'active during the last 3 days',
  last_7_days: 'active during the last 7 days',
  last_30_days: 'active during the last 30 days',
  more_than_30_days: 'last active more than 30 days ago',
};

export const ROLE = { user: 'User', admin: 'Admin' };

export const ROLE_HELP = {
  user: 'basic access to the app and a limited web dashboard',
  admin: 'full access to the app and the web dashboard',
};

// The filters. Deactivated members are listed only when their status is
// asked for.
export const FILTERS = {
  status: { legend: 'Status', values: ['active', 'invitation_sent', 'pending_app_login', 'signed_in_with_app', 'deactivated'], labels: STATUS, help: STATUS_HELP },
  lastCall: { legend: 'Last call date', values: Object.keys(LAST_CALL), labels: LAST_CALL, help: LAST_CALL_HELP },
  role: { legend: 'Role', values: ['user', 'admin'], labels: ROLE, help: ROLE_HELP },
};

export const INVITE_RESULT = {
  invited: 'Invited',
  already_member: 'Already in the team',
  invalid_email: 'Not a valid email address',
  duplicate_in_request: 'Listed twice; invited once',
  seat_limit_reached: 'No free seat left',
};

// Why a member was skipped in a bulk action or a team job.
export const SKIP_REASON = {
  unchanged: 'nothing to change',
  owner_protected: 'the team owner cannot be removed, demoted or deactivated',
  cannot_change_self: 'you cannot remove, demote or deactivate yourself',
  cooldown: 'emailed recently; the cooldown between two emails has not passed yet',
  not_pending: 'already accepted the invitation',
  member_not_found: 'no longer in the team',
  concurrent_change: 'changed by someone else at the same moment; try again',
  accepted: 'accepted the invitation meanwhile',
  removed: 'removed from the team meanwhile',
  deactivated: 'deactivated; reactivate them first',
  seat_limit_reached: 'no free seat left',
  member_deactivated: 'their access is turned off',
  internal: 'something went wrong on our side',
};

export const EMAIL_KIND = {
  invitation: 'Invitation',
  instructions: 'App instructions',
  usage_report: 'Usage report',
  role_changed: 'Role change notice',
  removed: 'Removal notice',
  invitation_revoked: 'Withdrawn invitation notice',
  deactivated: 'Deactivation notice',
};

export const EMAIL_STATE = {
  queued: 'Waiting to be sent',
  sending: 'Sending',
  sent: 'Sent',
  failed: 'Could not be sent',
  uncertain: 'May not have arrived',
  bounced: 'Bounced',
  complained: 'Marked as spam',
};

// A CSV file refused whole: the heading over the API's explanation.
export const CSV_PROBLEM = {
  not_csv: 'This is not a CSV file',
  no_email_column: 'No column of email addresses',
  file_too_large: 'The file is too large',
  too_many_rows: 'The file has too many rows',
  invalid_body: 'The file could not be read',
};

// Email problems shown on a row (emailProblem, and lastEmail.state).
export const EMAIL_PROBLEM = { bounced: 'Email bounced', complained: 'Marked as spam' };

export function label(map, code) {
  if (code in map) return map[code];
  return String(code ?? '').replaceAll('_', ' ');
}
