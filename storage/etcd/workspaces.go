package etcd

import (
	"context"
	"fmt"
	"strings"

	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/protobuf/proto"

	"tokenauthority/audit"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/storage"
)

// CreateWorkspace stores a new workspace. A workspace of the same id still
// being deleted is finished first.
func (s *Store) CreateWorkspace(ctx context.Context, ws *pb.Workspace) error {
	if ws == nil {
		return fmt.Errorf("nil workspace: %w", storage.ErrInvalid)
	}
	id := ws.GetWorkspaceId()
	if err := storage.CheckID("workspace", id); err != nil {
		return err
	}
	if err := s.cleanWorkspace(audit.Without(ctx), id); err != nil {
		return err
	}
	_, err := s.update(ctx, "create workspace", func(t *txn) error {
		if ok, err := t.exists(s.k.workspace(id)); err != nil || ok {
			if ok {
				return fmt.Errorf("workspace %q: %w", id, storage.ErrAlreadyExists)
			}
			return err
		}
		if ok, err := t.exists(s.k.wsCleanup(id)); err != nil || ok {
			if ok {
				return fmt.Errorf("workspace %q: its earlier deletion is still being cleaned up; retry: %w", id, storage.ErrUnavailable)
			}
			return err
		}
		return t.put(s.k.workspace(id), ws)
	})
	return err
}

// GetWorkspace returns a workspace.
func (s *Store) GetWorkspace(ctx context.Context, id string) (*pb.Workspace, error) {
	if err := storage.CheckID("workspace", id); err != nil {
		return nil, err
	}
	kv, err := s.get(ctx, s.k.workspace(id))
	if err != nil {
		return nil, err
	}
	if kv == nil {
		return nil, fmt.Errorf("workspace %q: %w", id, storage.ErrNotFound)
	}
	return decode[pb.Workspace](kv.Value)
}

// ListWorkspaces lists workspaces in id order after the given id.
func (s *Store) ListWorkspaces(ctx context.Context, after string, limit int) ([]*pb.Workspace, error) {
	return listAfter[pb.Workspace](ctx, s, s.k.workspaces(), after, limit)
}

// listAfter lists the records under prefix whose key suffix sorts after
// after, at most limit (all when 0).
func listAfter[T any, P interface {
	*T
	proto.Message
}](ctx context.Context, s *Store, prefix, after string, limit int) ([]P, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	start := prefix
	if after != "" {
		start = prefix + after + "\x00"
	}
	opts := []clientv3.OpOption{clientv3.WithRange(prefixEnd(prefix))}
	if limit > 0 {
		opts = append(opts, clientv3.WithLimit(int64(limit)))
	}
	resp, err := s.rget(ctx, start, opts...)
	if err != nil {
		return nil, unavailable(ctx, err)
	}
	var out []P
	for _, kv := range resp.Kvs {
		m, err := decode[T, P](kv.Value)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// listInWorkspace lists a workspace's children, refusing a missing
// workspace; both reads are of one revision.
func listInWorkspace[T any, P interface {
	*T
	proto.Message
}](ctx context.Context, s *Store, ws, prefix, after string, limit int) ([]P, error) {
	if err := storage.CheckID("workspace", ws); err != nil {
		return nil, err
	}
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	start := prefix
	if after != "" {
		start = prefix + after + "\x00"
	}
	opts := []clientv3.OpOption{clientv3.WithRange(prefixEnd(prefix))}
	if limit > 0 {
		opts = append(opts, clientv3.WithLimit(int64(limit)))
	}
	resp, err := s.rtxn(ctx, clientv3.OpGet(s.k.workspace(ws), clientv3.WithCountOnly()), clientv3.OpGet(start, opts...))
	if err != nil {
		return nil, unavailable(ctx, err)
	}
	if resp.Responses[0].GetResponseRange().Count == 0 {
		return nil, fmt.Errorf("workspace %q: %w", ws, storage.ErrNotFound)
	}
	var out []P
	for _, kv := range resp.Responses[1].GetResponseRange().Kvs {
		m, err := decode[T, P](kv.Value)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// DeleteWorkspace deletes a workspace. Without force it refuses one with
// members, zoos or tokens. With force the workspace key goes in one
// transaction (its tokens stop validating there and then) and its members,
// zoos, tokens and seeds are deleted after, in bounded batches.
func (s *Store) DeleteWorkspace(ctx context.Context, id string, force bool) error {
	if err := storage.CheckID("workspace", id); err != nil {
		return err
	}
	_, err := s.update(ctx, "delete workspace", func(t *txn) error {
		if ok, err := t.exists(s.k.workspace(id)); err != nil || !ok {
			if err == nil {
				err = fmt.Errorf("workspace %q: %w", id, storage.ErrNotFound)
			}
			return err
		}
		var has []string
		for _, c := range []struct{ prefix, what string }{
			{s.k.members(id), "members"}, {s.k.zoos(id), "zoos"}, {s.k.wsTokens(id), "tokens"},
		} {
			kvs, err := t.list(c.prefix, prefixEnd(c.prefix), 1, clientv3.WithKeysOnly())
			if err != nil {
				return err
			}
			if len(kvs) > 0 {
				has = append(has, c.what)
			}
		}
		if len(has) > 0 && !force {
			return fmt.Errorf("workspace %q has %s: %w", id, strings.Join(has, ", "), storage.ErrNotEmpty)
		}
		t.del(s.k.workspace(id))
		if len(has) > 0 {
			t.putRaw(s.k.wsCleanup(id), "")
		}
		return nil
	})
	if err != nil {
		return err
	}
	return s.cleanWorkspace(ctx, id)
}
