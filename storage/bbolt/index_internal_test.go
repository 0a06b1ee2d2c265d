package bbolt

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	storagepb "tokenauthority/gen/tokenauthority/storage/v1"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/lifecycle"
	"tokenauthority/storage"
)

// lookupInFile is what LookupTokenWithPolicy answers, computed from the
// bbolt records in one read transaction: the answer the validation index
// must always give (the index keeps no sealed secret, so the record comes
// without it).
func lookupInFile(s *Store, hash [32]byte) (rec *storagepb.TokenRecord, member bool, policy *pb.TokenPolicy, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		id := tx.Bucket(bucketTokenHashes).Get(hash[:])
		if id == nil {
			return storage.ErrNotFound
		}
		v := tx.Bucket(bucketTokens).Get(id)
		if v == nil {
			return fmt.Errorf("hash entry names missing token %q", id)
		}
		var err error
		if rec, err = decodeToken(v); err != nil {
			return err
		}
		rec.SealedSecret = nil
		t := rec.GetToken()
		member = tx.Bucket(bucketMembers).Get(compositeKey(t.GetWorkspaceId(), t.GetUserId())) != nil
		policy, err = tokenPolicy(tx, t.GetWorkspaceId())
		return err
	})
	return rec, member, policy, err
}

// checkIndex compares the index's answer with the file's for every hash.
func checkIndex(t *testing.T, s *Store, hashes [][32]byte, when string) {
	t.Helper()
	ctx := context.Background()
	found := 0
	for _, h := range hashes {
		want, wantMember, wantPolicy, wantErr := lookupInFile(s, h)
		got, gotMember, gotPolicy, gotErr := s.LookupTokenWithPolicy(ctx, h)
		if errors.Is(wantErr, storage.ErrNotFound) {
			if !errors.Is(gotErr, storage.ErrNotFound) {
				t.Fatalf("%s: hash %x: index = %v, %v; the file holds no such token", when, h[:4], got.GetToken().GetTokenId(), gotErr)
			}
			continue
		}
		if wantErr != nil {
			t.Fatalf("%s: reading the file: %v", when, wantErr)
		}
		if gotErr != nil {
			t.Fatalf("%s: token %s: index = %v, want the file's record", when, want.GetToken().GetTokenId(), gotErr)
		}
		found++
		if !proto.Equal(got, want) || gotMember != wantMember || !proto.Equal(gotPolicy, wantPolicy) {
			t.Fatalf("%s: token %s:\nindex %v member=%v policy=%v\nfile  %v member=%v policy=%v",
				when, want.GetToken().GetTokenId(), got, gotMember, gotPolicy, want, wantMember, wantPolicy)
		}
	}
	if s.index.Len() != found {
		t.Fatalf("%s: index holds %d tokens, the file %d", when, s.index.Len(), found)
	}
	// Zoos: LookupZoo (the index) answers what GetZoo (a read transaction)
	// does, for every zoo name the test uses.
	for _, ws := range indexTestWorkspaces {
		for _, zoo := range indexTestZoos {
			want, wantErr := s.GetZoo(ctx, ws, zoo)
			got, gotErr := s.LookupZoo(ctx, ws, zoo)
			if errors.Is(wantErr, storage.ErrNotFound) != errors.Is(gotErr, storage.ErrNotFound) || !proto.Equal(got, want) {
				t.Fatalf("%s: zoo %s/%s: index %v, %v; file %v, %v", when, ws, zoo, got, gotErr, want, wantErr)
			}
		}
	}
}

var (
	indexTestWorkspaces = []string{"acme", "beta", "gamma"}
	indexTestZoos       = []string{"models", "data"}
)

// TestIndexMatchesFile drives random mixes of every write that changes a
// verdict's inputs, some sharing commits, and checks after every round
// (and after a reopen) that every lookup from the index equals the answer
// computed from the records in the file.
func TestIndexMatchesFile(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ta.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })

	t0 := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	workspaces := indexTestWorkspaces
	users := []string{"ann", "bob", "cid"}
	for _, ws := range workspaces {
		if err := s.CreateWorkspace(ctx, &pb.Workspace{WorkspaceId: ws, CreateTime: timestamppb.New(t0)}); err != nil {
			t.Fatal(err)
		}
		for _, u := range users {
			if err := s.AddMember(ctx, &pb.Member{WorkspaceId: ws, UserId: u, CreateTime: timestamppb.New(t0)}); err != nil {
				t.Fatal(err)
			}
		}
	}

	var (
		mu     sync.Mutex
		hashes [][32]byte
		ids    []string
		nextID atomic.Int64
	)
	newRec := func(ws, user string) *storagepb.TokenRecord {
		n := nextID.Add(1)
		id := fmt.Sprintf("tok-%05d", n)
		h := sha256.Sum256([]byte("secret-" + id))
		mu.Lock()
		hashes = append(hashes, h)
		ids = append(ids, id)
		mu.Unlock()
		return &storagepb.TokenRecord{
			Token: &pb.Token{
				TokenId: id, WorkspaceId: ws, UserId: user, Description: "token " + id,
				MaskedKey: "dg_…" + id, CreateTime: timestamppb.New(t0),
				ExpireTime: timestamppb.New(t0.Add(time.Duration(n%7) * time.Hour)),
			},
			SecretHash: h[:], SealedSecret: []byte("sealed-" + id),
		}
	}
	// A write refused by the store (a missing member, a revoked token) is
	// part of the mix: the index must not change then either. Only other
	// errors fail the test.
	refused := func(err error) bool {
		return err == nil || errors.Is(err, storage.ErrNotFound) || errors.Is(err, storage.ErrNotMember) ||
			errors.Is(err, storage.ErrAlreadyExists) || errors.Is(err, storage.ErrInvalid) ||
			errors.Is(err, lifecycle.ErrRevoked) || errors.Is(err, lifecycle.ErrExpired) ||
			errors.Is(err, lifecycle.ErrDisabled) || errors.Is(err, lifecycle.ErrReused)
	}
	op := func(r *rand.Rand, now time.Time) error {
		ws := workspaces[r.IntN(len(workspaces))]
		user := users[r.IntN(len(users))]
		mu.Lock()
		var id string
		if len(ids) > 0 {
			id = ids[r.IntN(len(ids))]
		}
		mu.Unlock()
		zoo := indexTestZoos[r.IntN(len(indexTestZoos))]
		switch r.IntN(14) {
		case 11:
			return s.CreateZoo(ctx, &pb.Zoo{WorkspaceId: ws, ZooId: zoo, Visibility: pb.Visibility_VISIBILITY_PRIVATE, CreateTime: timestamppb.New(now)})
		case 12:
			_, err := s.UpdateZoo(ctx, ws, zoo, pb.Visibility(1+r.IntN(2)))
			return err
		case 13:
			return s.DeleteZoo(ctx, ws, zoo)
		case 0, 1, 2:
			return s.CreateToken(ctx, newRec(ws, user), nil)
		case 3:
			old, err := s.GetToken(ctx, ws, id)
			if err != nil {
				return err
			}
			next := newRec(ws, old.GetToken().GetUserId())
			next.Token.CreateTime = timestamppb.New(now)
			_, _, err = s.RollToken(ctx, storage.Roll{WorkspaceID: ws, OldID: id, Next: next, Grace: time.Duration(r.IntN(2)) * time.Hour})
			return err
		case 4:
			_, err := s.RevokeToken(ctx, ws, id, now.Add(time.Duration(r.IntN(3))*time.Minute), pb.RevokeReason_REVOKE_REASON_ADMIN)
			return err
		case 5:
			_, err := s.UpdateToken(ctx, ws, id, now, func(tk *pb.Token, _ *pb.TokenPolicy) error {
				tk.Disabled = !tk.Disabled
				tk.Description = fmt.Sprintf("changed at %v", now.Unix())
				return nil
			})
			return err
		case 6:
			_, err := s.RemoveMember(ctx, ws, user, now)
			return err
		case 7:
			return s.AddMember(ctx, &pb.Member{WorkspaceId: ws, UserId: user, CreateTime: timestamppb.New(now)})
		case 8:
			_, err := s.UpdateWorkspace(ctx, ws, func(w *pb.Workspace) error {
				if w.TokenPolicy != nil && r.IntN(2) == 0 {
					w.TokenPolicy = nil
					return nil
				}
				w.TokenPolicy = &pb.TokenPolicy{MaxLifetime: durationpb.New(time.Duration(1+r.IntN(48)) * time.Hour), RequireExpiry: r.IntN(2) == 0}
				return nil
			})
			return err
		case 9:
			_, err := s.RecordUses(ctx, map[string]time.Time{id: now})
			return err
		default:
			if r.IntN(4) != 0 {
				_, err := s.SweepTokens(ctx, now.Add(time.Duration(r.IntN(10))*time.Hour), 50)
				return err
			}
			if err := s.DeleteWorkspace(ctx, ws, true); err != nil {
				return err
			}
			if err := s.CreateWorkspace(ctx, &pb.Workspace{WorkspaceId: ws, CreateTime: timestamppb.New(now)}); err != nil {
				return err
			}
			return s.AddMember(ctx, &pb.Member{WorkspaceId: ws, UserId: user, CreateTime: timestamppb.New(now)})
		}
	}

	sawTokens := false
	for round := range 60 {
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for g := range 8 {
			wg.Go(func() {
				r := rand.New(rand.NewPCG(uint64(round), uint64(g)))
				for i := range 6 {
					now := t0.Add(time.Duration(round*60+i) * time.Minute)
					if err := op(r, now); !refused(err) {
						errs <- err
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("round %d: %v", round, err)
		}
		mu.Lock()
		hs := append([][32]byte(nil), hashes...)
		mu.Unlock()
		checkIndex(t, s, hs, fmt.Sprintf("round %d", round))
		sawTokens = sawTokens || s.index.Len() > 0
	}
	if !sawTokens {
		t.Fatal("no round ended with a token in the index: the mix checked nothing")
	}

	// The mix may have swept or deleted every token; a workspace it never
	// touches keeps some for the reseal and the reopen to carry.
	if err := s.CreateWorkspace(ctx, &pb.Workspace{WorkspaceId: "kept", CreateTime: timestamppb.New(t0)}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddMember(ctx, &pb.Member{WorkspaceId: "kept", UserId: "ann", CreateTime: timestamppb.New(t0)}); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		rec := newRec("kept", "ann")
		rec.Token.ExpireTime = nil
		if err := s.CreateToken(ctx, rec, nil); err != nil {
			t.Fatal(err)
		}
	}

	// A reseal rewrites every token record; the index follows.
	if _, err := s.Reseal(ctx, ResealOptions{Batch: 7}, func(sealed, _ []byte) ([]byte, error) {
		return append([]byte("v2:"), sealed...), nil
	}); err != nil {
		t.Fatal(err)
	}
	checkIndex(t, s, hashes, "after reseal")

	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err = Open(path, Options{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	checkIndex(t, s, hashes, "after reopen")
	if n := s.index.Len(); n < 3 {
		t.Fatalf("%d tokens in the index after reopen, want at least the 3 kept", n)
	}
}
