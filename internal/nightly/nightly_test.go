package nightly

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"

	"github.com/teamusers/usersapi/internal/users"
)

// fakeStore serves a queue of pages per shard and fails the items and
// shards it is told to.
type fakeStore struct {
	mu          sync.Mutex
	pages       map[int][][]users.DueItem
	badMember   string
	badShard    int
	aged, moved []string
}

func (f *fakeStore) DueItems(_ context.Context, shard int, after string, _ int32) ([]users.DueItem, string, error) {
	if shard == f.badShard {
		return nil, "", errors.New("shard unreadable")
	}
	page := 0
	if after != "" {
		fmt.Sscan(after, &page)
	}
	ps := f.pages[shard]
	if page >= len(ps) {
		return nil, "", nil
	}
	next := ""
	if page+1 < len(ps) {
		next = fmt.Sprint(page + 1)
	}
	return ps[page], next, nil
}

func (f *fakeStore) AgeMember(_ context.Context, _, memberID string) (bool, error) {
	if memberID == f.badMember {
		return false, errors.New("poison")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.aged = append(f.aged, memberID)
	return true, nil
}

func (f *fakeStore) RetireQueuedSignIn(_ context.Context, in users.SignIn) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.moved = append(f.moved, in.MemberID)
	return nil
}

func TestOneBadItemOrShardDoesNotStopTheNight(t *testing.T) {
	m := func(id string) users.DueItem { return users.DueItem{Kind: users.DueMember, TeamID: "t", MemberID: id} }
	s := &fakeStore{badMember: "m_bad", badShard: 1, pages: map[int][][]users.DueItem{
		0: {{m("m_1"), m("m_bad")}, {m("m_2")}},
		2: {{users.DueItem{Kind: users.DueSignIn, SignIn: &users.SignIn{MemberID: "m_3"}}}},
	}}
	res, err := Job{Store: s, Shards: 3, PageSize: 2, Workers: 2, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}.Run(context.Background())
	if err != nil || !res.Done {
		t.Fatalf("%+v %v", res, err)
	}
	if res.MembersChanged != 2 || res.SignInsRetired != 1 || res.Failed != 2 {
		t.Fatalf("%+v: want 2 changed, 1 retired, 2 failed (an item and a shard)", res)
	}
}
