package core

import (
	"context"
	"errors"
	"fmt"

	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/storage"
)

// CreateWorkspace stores ws; ErrAlreadyExists if its id is taken. A
// workspace of that id whose deletion is still deleting what it held
// (DeleteWorkspace's clean-up marker) is refused with ErrUnavailable until
// it is finished: created again now, the deletion's later batches would
// delete the new workspace's members, zoos and tokens.
func (s *Store) CreateWorkspace(ctx context.Context, ws *pb.Workspace) error {
	if ws == nil {
		return fmt.Errorf("nil workspace: %w", storage.ErrInvalid)
	}
	id := ws.GetWorkspaceId()
	if err := storage.CheckID("workspace", id); err != nil {
		return err
	}
	val, err := encode(ws)
	if err != nil {
		return err
	}
	key := workspaces.key(id)
	return s.update(ctx, func(w writer) error {
		if ok, err := w.has(key); err != nil || ok {
			if ok {
				return reject(fmt.Errorf("workspace %q: %w", id, storage.ErrAlreadyExists))
			}
			return err
		}
		if ok, err := w.has(workspaceCleanups.key(id)); err != nil || ok {
			if ok {
				return reject(fmt.Errorf("workspace %q: its earlier deletion is still being finished; retry: %w", id, storage.ErrUnavailable))
			}
			return err
		}
		return w.put(key, val)
	})
}

// GetWorkspace returns the workspace; ErrNotFound if absent.
func (s *Store) GetWorkspace(ctx context.Context, id string) (*pb.Workspace, error) {
	if err := storage.CheckID("workspace", id); err != nil {
		return nil, err
	}
	var ws *pb.Workspace
	err := s.view(ctx, func(r reader) error {
		var err error
		if ws, err = getMsg[pb.Workspace](r, workspaces.key(id)); err == nil && ws == nil {
			err = fmt.Errorf("workspace %q: %w", id, storage.ErrNotFound)
		}
		return err
	})
	return ws, err
}

// ListWorkspaces returns workspaces with ids greater than after, ascending,
// at most limit of them (all when limit <= 0).
func (s *Store) ListWorkspaces(ctx context.Context, after string, limit int) ([]*pb.Workspace, error) {
	var out []*pb.Workspace
	err := s.view(ctx, func(r reader) error {
		var err error
		out, err = listAfter[pb.Workspace](r, workspaces.all(), after, limit)
		return err
	})
	return out, err
}

// UpdateWorkspace changes a workspace in one commit. change receives the
// stored workspace and edits it in place, or returns an error to refuse
// (nothing is written); it may run more than once, each time on a fresh
// copy. The workspace id and create time cannot be changed. ErrNotFound if
// absent.
func (s *Store) UpdateWorkspace(ctx context.Context, id string, change func(ws *pb.Workspace) error) (*pb.Workspace, error) {
	if err := storage.CheckID("workspace", id); err != nil {
		return nil, err
	}
	key := workspaces.key(id)
	var out *pb.Workspace
	err := s.update(ctx, func(w writer) error {
		out = nil
		ws, err := getMsg[pb.Workspace](w.reader, key)
		if err != nil {
			return err
		}
		if ws == nil {
			return reject(fmt.Errorf("workspace %q: %w", id, storage.ErrNotFound))
		}
		created := ws.GetCreateTime().AsTime()
		if err := change(ws); err != nil {
			return reject(err)
		}
		if ws.GetWorkspaceId() != id || !ws.GetCreateTime().AsTime().Equal(created) {
			return reject(fmt.Errorf("workspace %q: an immutable field was changed: %w", id, storage.ErrInvalid))
		}
		val, err := encode(ws)
		if err != nil {
			return reject(err)
		}
		if err := w.put(key, val); err != nil {
			return err
		}
		out = ws
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// GetTokenPolicy returns a workspace's token policy (nil: none);
// ErrNotFound if the workspace does not exist.
func (s *Store) GetTokenPolicy(ctx context.Context, workspaceID string) (*pb.TokenPolicy, error) {
	ws, err := s.GetWorkspace(ctx, workspaceID)
	if err != nil {
		return nil, err
	}
	return ws.GetTokenPolicy(), nil
}

// needWorkspace is workspaceGuard inside a write: the workspace's absence
// is a rejection, while an error of the read itself is returned as it is,
// for the engine to see (a lost race on etcd reruns the transaction).
func needWorkspace(r reader, id string) error {
	err := workspaceGuard(id)(r)
	if errors.Is(err, storage.ErrNotFound) {
		return reject(err)
	}
	return err
}
