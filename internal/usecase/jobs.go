package usecase

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/teamusers/usersapi/internal/metrics"
	"github.com/teamusers/usersapi/internal/parallel"
	"github.com/teamusers/usersapi/internal/users"
)

// JobStore is what jobs need of the table.
type JobStore interface {
	CreateJob(ctx context.Context, j users.Job) error
	GetJob(ctx context.Context, id string) (users.Job, error)
	SaveJob(ctx context.Context, j users.Job, from string) error
}

// Jobs runs team-wide actions.
type Jobs struct {
	Service
	JobStore JobStore
	Log      *slog.Logger
	// PageSize is how many members one step reads; Reserve is the time left
	// at which a run hands the job to a fresh invocation.
	PageSize int
	Reserve  time.Duration
	Metrics  *metrics.Emitter // job durations; nil: none
}

// NewJobs is the team-job runner every function and the local stack use:
// a page of 100 members a step, handing on with 20 s left.
func NewJobs(svc Service, store JobStore, log *slog.Logger) *Jobs {
	return &Jobs{Service: svc, JobStore: store, Log: log, PageSize: 100, Reserve: 20 * time.Second}
}

// jobQuery is the members a job visits.
func jobQuery(kind string, pageSize int) users.ListQuery {
	q := users.ListQuery{Sort: users.SortEmail, Limit: pageSize, Statuses: []users.Status{users.StatusInvitationSent}}
	if kind == users.JobSendInstructions {
		q.Statuses = append(q.Statuses, users.StatusPendingAppLogin)
	}
	return q
}

// Start records a job for the team (as its caller's authorization just
// read it, counters included) and returns it; the stream runs it. It
// takes one start from the team's hourly limit of team-wide jobs (over it:
// 429), given back when the job is not recorded.
func (j *Jobs) Start(ctx context.Context, team users.Team, kind, by string) (users.Job, error) {
	giveBack, err := j.takeTeamJob(ctx, team.ID)
	if err != nil {
		return users.Job{}, err
	}
	job, err := j.start(ctx, team, kind, by)
	if err != nil {
		giveBack()
	}
	return job, err
}

func (j *Jobs) start(ctx context.Context, team users.Team, kind, by string) (users.Job, error) {
	teamID := team.ID
	expected := team.Counters.PendingInvitations
	if kind == users.JobSendInstructions {
		expected = team.Counters.NeverUsedApp
	}
	job := users.Job{ID: users.NewID("j"), TeamID: teamID, TeamName: team.Name, Kind: kind, RequestedBy: by, State: "queued", Expected: expected}
	return job, j.JobStore.CreateJob(ctx, job)
}

// Get is a job of the team's (job_not_found for any other, whether it
// exists or not).
func (j *Jobs) Get(ctx context.Context, teamID, id string) (users.Job, error) {
	notFound := users.Errorf(users.KindNotFound, "job_not_found", "No such job in this team.")
	job, err := j.JobStore.GetJob(ctx, id)
	if e, ok := users.AsError(err); ok && e.Kind == users.KindNotFound {
		return users.Job{}, notFound
	}
	if err != nil {
		return users.Job{}, err
	}
	if job.TeamID != teamID {
		return users.Job{}, notFound
	}
	return job, nil
}

// Run advances a job until it is done or the deadline is near; then it
// checkpoints and bumps the step so the stream starts a fresh run.
func (j *Jobs) Run(ctx context.Context, id string) error {
	job, err := j.JobStore.GetJob(ctx, id)
	if err != nil || job.State == "done" {
		return err
	}
	// Its changes are the requesting admin's, one of the job's.
	ctx = users.WithAudit(ctx, users.Actor{Kind: users.ActorAdmin, Email: job.RequestedBy}, users.AuditRequest{Via: "job:" + job.ID})
	for {
		from := job.Position
		// The job has the team's id, not its counts: every partition it
		// selects is read (two, for either button).
		members, next, err := j.Store.ListMembers(ctx, users.Team{ID: job.TeamID}, jobQuery(job.Kind, j.PageSize), job.Position)
		if err != nil {
			return err
		}
		var mu sync.Mutex
		parallel.Each(len(members), 8, func(i int) {
			m := members[i]
			var err error
			if job.Kind == users.JobResendInvites {
				_, err = j.resendInvite(ctx, Team{ID: job.TeamID, Name: job.TeamName}, m.ID, job.RequestedBy)
			} else {
				_, err = j.SendInstructions(ctx, Team{ID: job.TeamID, Name: job.TeamName}, m.ID, job.RequestedBy)
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				// cooldown, accepted meanwhile, removed: each member's own rule decides
				e, ok := users.AsError(err)
				if !ok || e.Kind == users.KindInternal || e.Kind == users.KindUnavailable {
					j.Log.ErrorContext(ctx, "job step failed for a member", "job", job.ID, "member", m.ID, "error", err.Error())
					job.Failed++
					return
				}
				job.Skipped++
				if job.Reasons == nil {
					job.Reasons = map[string]int{}
				}
				job.Reasons[e.Code]++
				return
			}
			job.Done++
		})
		job.Position, job.State = next, "running"
		if next == "" {
			job.State = "done"
		}
		deadline, ok := ctx.Deadline()
		handOff := job.State != "done" && ok && time.Until(deadline) < j.Reserve
		if handOff {
			job.Step++
		}
		if err := j.JobStore.SaveJob(ctx, job, from); err != nil {
			if errors.Is(err, users.ErrJobMoved) {
				return nil // another run is ahead of us
			}
			return err
		}
		if job.State == "done" {
			if !job.CreatedAt.IsZero() {
				j.Metrics.Duration(metrics.TeamJobDuration, time.Since(job.CreatedAt), metrics.Dim{Name: "Kind", Value: job.Kind})
			}
			return nil
		}
		if handOff {
			return nil
		}
	}
}
