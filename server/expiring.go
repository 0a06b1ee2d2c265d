package server

import (
	"cmp"
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	storagepb "tokenauthority/gen/tokenauthority/storage/v1"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/lifecycle"
)

// ending is a listed token with the end that applies to it.
type ending struct {
	end time.Time
	rec *storagepb.TokenRecord
}

// listExpiring answers a ListTokens with expire_before: the tokens of f,
// soonest end first (the end under the workspace policy, as shown in
// effective_expire_time; ties by id), paged by (end, id). after is the
// previous page's last "<end unix nanos>/<token id>", or "". Every page
// reads every match: an expiring list is short next to the workspace.
func (s *Server) listExpiring(ctx context.Context, workspaceID string, f tokenFilter, kind string, limit int, after string) (*pb.ListTokensResponse, error) {
	var from ending
	if after != "" {
		nanos, id, ok := strings.Cut(after, "/")
		n, err := strconv.ParseInt(nanos, 10, 64)
		if !ok || err != nil || id == "" {
			return nil, invalid("page_token", "is not a page token returned by this list")
		}
		from = ending{end: time.Unix(0, n).UTC(), rec: &storagepb.TokenRecord{Token: &pb.Token{TokenId: id}}}
	}
	recs, err := s.store.ListTokensMatching(ctx, workspaceID, "", 0, f.match)
	if err != nil {
		return nil, err
	}
	items := make([]ending, 0, len(recs))
	for _, r := range recs {
		it := ending{end: lifecycle.End(r.GetToken(), f.policy), rec: r}
		if after == "" || compareEnding(it, from) > 0 {
			items = append(items, it)
		}
	}
	slices.SortFunc(items, compareEnding)
	items, next := page(items, limit, kind, func(it ending) string {
		return strconv.FormatInt(it.end.UnixNano(), 10) + "/" + it.rec.GetToken().GetTokenId()
	})
	resp := &pb.ListTokensResponse{Tokens: make([]*pb.Token, len(items)), NextPageToken: next}
	for i, it := range items {
		resp.Tokens[i] = viewUnder(it.rec, f.policy, f.now)
	}
	return resp, nil
}

// compareEnding orders by end, then by token id.
func compareEnding(a, b ending) int {
	if c := a.end.Compare(b.end); c != 0 {
		return c
	}
	return cmp.Compare(a.rec.GetToken().GetTokenId(), b.rec.GetToken().GetTokenId())
}
