package server

import (
	"context"
	"crypto/sha256"

	pb "tokenauthority/gen/tokenauthority/v1"
)

// notePoll remembers who polled a seed, for GetSeedPollers. Seeds no token
// could have been created with are not worth remembering.
func (s *Server) notePoll(ctx context.Context, seed string, hash [32]byte) {
	if checkSeed(seed) != nil {
		return
	}
	s.pollers.saw(hash, peerAddr(ctx), s.now())
}

func (x *tokenService) GetSeedPollers(ctx context.Context, req *pb.GetSeedPollersRequest) (*pb.GetSeedPollersResponse, error) {
	return handle(ctx, x.s, pb.TokenService_GetSeedPollers_FullMethodName, req, (*Server).getSeedPollers)
}

// getSeedPollers answers the page that is about to create a token for a
// seed: where the SDK (or whoever polls the seed) is, and where the caller
// is. It needs the credential of the page (admin, or a member signed in by
// the proxy): an outsider must not learn who waits for a seed.
func (s *Server) getSeedPollers(ctx context.Context, req *pb.GetSeedPollersRequest) (*pb.GetSeedPollersResponse, error) {
	if err := checkSeed(req.GetSeed()); err != nil {
		return nil, err
	}
	hash := sha256.Sum256([]byte(req.GetSeed()))
	resp := &pb.GetSeedPollersResponse{PollerAddresses: s.pollers.addresses(hash, s.now())}
	if a, ok := hostOf(peerAddr(ctx)); ok {
		resp.ClientAddress = a.String()
	}
	return resp, nil
}
