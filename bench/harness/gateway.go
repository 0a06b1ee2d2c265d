package main

import (
	"context"
	"fmt"
	"net/http"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
)

// checkGateways makes sure both gateway decisions allow the load's request
// with a filled secret: a denial is answered too (403, or a CheckResponse
// with a denied status inside an OK call), and would measure the wrong
// path.
func (b *bench) checkGateways(ctx context.Context, secret string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+b.httpAddr+"/v1/authz", nil)
	if err != nil {
		return err
	}
	req.Header.Set("X-Original-URI", gatewayPath)
	req.Header.Set("X-Original-Method", http.MethodPost)
	req.Header.Set("Authorization", "Bearer "+secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("/v1/authz check: status %d (%s), want 200: the gateway load would be refused", resp.StatusCode, resp.Header.Get("X-Authz-Error"))
	}

	conn, err := grpc.NewClient(b.grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer conn.Close()
	check := &authv3.CheckRequest{Attributes: &authv3.AttributeContext{
		Request: &authv3.AttributeContext_Request{Http: &authv3.AttributeContext_HttpRequest{
			Method: http.MethodPost, Path: gatewayPath,
			Headers: map[string]string{"authorization": "Bearer " + secret},
		}},
		Source: &authv3.AttributeContext_Peer{Address: &corev3.Address{}},
	}}
	out, err := authv3.NewAuthorizationClient(conn).Check(ctx, check)
	if err != nil {
		return fmt.Errorf("ext_authz check: %w", err)
	}
	if c := codes.Code(out.GetStatus().GetCode()); c != codes.OK {
		return fmt.Errorf("ext_authz check: %v %q, want OK: the gateway load would be refused", c, out.GetStatus().GetMessage())
	}
	return nil
}
