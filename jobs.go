package blueclerk

import (
	"context"
	"iter"
	"time"
)

// JobStatus is where a job stands. Values the server sends that are not
// listed here are kept as they are.
type JobStatus string

// Job statuses.
const (
	JobStatusScheduled  JobStatus = "scheduled"
	JobStatusInProgress JobStatus = "in_progress"
	JobStatusCompleted  JobStatus = "completed"
	JobStatusCancelled  JobStatus = "cancelled"
)

// Job is scheduled work on a ticket.
type Job struct {
	ID            string    `json:"id"`
	TicketID      string    `json:"ticketId"`
	ScheduledDate time.Time `json:"scheduledDate"`
	AssignedTo    string    `json:"assignedTo,omitempty"`
	Status        JobStatus `json:"status,omitempty"`
	CreatedAt     time.Time `json:"createdAt,omitzero"`
}

// CreateJobParams is the body of POST /api/v1/jobs. TicketID and
// ScheduledDate are required.
type CreateJobParams struct {
	TicketID      string    `json:"ticketId"`
	ScheduledDate time.Time `json:"scheduledDate"`
	AssignedTo    string    `json:"assignedTo,omitempty"`
}

func (p *CreateJobParams) validate() error {
	switch {
	case p == nil:
		return invalidf("nil *CreateJobParams")
	case p.TicketID == "":
		return invalidf("job ticketId is required")
	case p.ScheduledDate.IsZero():
		return invalidf("job scheduledDate is required")
	}
	return nil
}

// JobsService reaches /api/v1/jobs. Reading needs the jobs.read scope,
// creating jobs.write.
type JobsService service

// List returns every job of the authenticated company (GET /api/v1/jobs),
// following pages when the server sends them.
func (s *JobsService) List(ctx context.Context, opts ...CallOption) ([]*Job, error) {
	return list[Job](ctx, s.client, apiPrefix+"/jobs", "jobs", opts)
}

// All yields the company's jobs one at a time (GET /api/v1/jobs); see
// [LeadsService.All].
func (s *JobsService) All(ctx context.Context, opts ...CallOption) iter.Seq2[*Job, error] {
	return all[Job](ctx, s.client, apiPrefix+"/jobs", "jobs", opts)
}

// Create schedules a job (POST /api/v1/jobs) and returns it as stored.
// Invalid params fail with [ErrInvalidRequest] before anything is sent. A
// lost answer fails with [ErrOutcomeUnknown]: the job may exist.
func (s *JobsService) Create(ctx context.Context, p *CreateJobParams, opts ...CallOption) (*Job, error) {
	return create[Job](ctx, s.client, apiPrefix+"/jobs", "job", p, opts)
}

func (j *Job) objectID() string { return j.ID }
