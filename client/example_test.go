package client_test

import (
	"io"
	"log"
	"net/http"

	"tokenauthority/client"
	pb "tokenauthority/gen/tokenauthority/v1"
)

// A hub service protects its model downloads with one middleware: the
// zoo comes from the route, the verdict lands in the request context.
func Example() {
	// begin middleware example
	c, err := client.Dial("127.0.0.1:50051", client.WithCredential("tkas_..."))
	if err != nil {
		log.Fatal(err)
	}
	protect := c.Middleware(func(r *http.Request) (client.Target, error) {
		return client.Target{Zoo: r.PathValue("ws") + "/" + r.PathValue("zoo"), Operation: pb.Operation_OPERATION_DOWNLOAD}, nil
	})
	http.Handle("GET /models/{ws}/{zoo}/{file...}", protect(http.HandlerFunc(serveModel)))
	// end middleware example
}

func serveModel(w http.ResponseWriter, r *http.Request) {
	v, _ := client.FromContext(r.Context())
	io.WriteString(w, "model for "+v.WorkspaceID)
}
