package cli

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "tokenauthority/gen/tokenauthority/v1"
)

func (a *app) auditListCmd() *cobra.Command {
	var ws, actor, action, since, until string
	var limit int
	c := &cobra.Command{
		Use:     "list [--workspace WS] [--actor ACTOR] [--action ACTION] [--since 24h|7d|TIME] [--until TIME] [--limit N]",
		Aliases: []string{"ls"},
		Short:   "List audit events, oldest first",
		Long: `Lists the audit log's events in sequence order, oldest first. Filters combine:
--workspace, --actor (a credential name, user:ID or token:ID), --action (such
as token.reveal), --since (a duration back from now, such as 24h or 7d, or an
RFC 3339 time) and --until (an RFC 3339 time, exclusive). --limit stops after
that many events.`,
		Args: args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if limit < 0 {
				return usageError(fmt.Sprintf("--limit %d: want 0 (no limit) or more", limit))
			}
			req := &pb.ListAuditEventsRequest{WorkspaceId: ws, Actor: actor, Action: action, PageSize: pageSize}
			if since != "" {
				t, err := a.auditSince(since)
				if err != nil {
					return err
				}
				req.StartTime = timestamppb.New(t)
			}
			if until != "" {
				t, err := time.Parse(time.RFC3339, until)
				if err != nil {
					return usageError(fmt.Sprintf("--until %q: want an RFC 3339 time such as 2026-11-27T09:00:00Z", until))
				}
				req.EndTime = timestamppb.New(t)
			}
			client, err := a.auditLog()
			if err != nil {
				return err
			}
			ctx, cancel := a.ctx(cmd)
			defer cancel()
			var events []*pb.AuditEvent
			for {
				r, err := client.ListAuditEvents(ctx, req)
				if err != nil {
					return err
				}
				events = append(events, r.GetEvents()...)
				next := r.GetNextPageToken()
				if next == "" || next == req.GetPageToken() || (limit > 0 && len(events) >= limit) {
					break
				}
				req.PageToken = next
			}
			if limit > 0 && len(events) > limit {
				events = events[:limit]
			}
			names := make([]string, len(events))
			for i, ev := range events {
				names[i] = strconv.FormatUint(ev.GetSequence(), 10)
			}
			return a.show(view{msg: &pb.ListAuditEventsResponse{Events: events}, names: names, table: auditListTable(events)})
		},
	}
	c.Flags().StringVarP(&ws, "workspace", "w", "", "only events in this workspace")
	_ = c.RegisterFlagCompletionFunc("workspace", a.completeWorkspaceFlag)
	c.Flags().StringVar(&actor, "actor", "", "only events by this actor: a credential name, user:ID or token:ID")
	c.Flags().StringVar(&action, "action", "", "only events with this action, such as token.reveal")
	c.Flags().StringVar(&since, "since", "", "only events from this long ago (24h, 7d) or from this RFC 3339 time on")
	c.Flags().StringVar(&until, "until", "", "only events before this RFC 3339 time")
	c.Flags().IntVar(&limit, "limit", 0, "stop after this many events (0: all)")
	return c
}

// auditSince reads --since: a duration back from now (12h, 7d, 2w) or an
// RFC 3339 time.
func (a *app) auditSince(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	d, ok := parseDays(s)
	if !ok {
		var err error
		if d, err = time.ParseDuration(s); err != nil || d <= 0 {
			return time.Time{}, usageError(fmt.Sprintf("--since %q: want a duration such as 24h or 7d, or an RFC 3339 time", s))
		}
	}
	return a.env.Now().Add(-d), nil
}

func auditListTable(events []*pb.AuditEvent) func(*table) {
	return func(t *table) {
		t.row("SEQ", "TIME", "ACTOR", "ACTION", "WORKSPACE", "TARGET", "FROM")
		for _, ev := range events {
			target := ev.GetTarget()
			if n := len(ev.GetRevokedTokenIds()); n > 0 {
				target += " (" + plural(n, "token") + " revoked)"
			}
			if ev.GetCreatedForSeed() {
				target += " [seed]"
			}
			t.row(strconv.FormatUint(ev.GetSequence(), 10), auditTime(ev.GetTime()), ev.GetActor(), ev.GetAction(),
				dash(ev.GetWorkspaceId()), dash(strings.TrimSpace(target)), dash(ev.GetClientAddress()))
		}
	}
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
