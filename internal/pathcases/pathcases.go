package pathcases

// Attacks returns request targets that try to leave the public zoo
// acme/pub for the private acme/priv (or leave the zoos altogether). The
// path check must refuse every one, and no gateway in front of a naive file
// server may serve a private file for any of them.
func Attacks() []string {
	return []string{
		"/zoo/v1/public/models/acme/pub#/../../acme/priv/m",
		"/zoo/v1/public/models/acme/pub/x#/../../../acme/priv/m",
		"/zoo/v1/public/models/acme/pub/%23/../../priv/m",
		"/zoo/v1/public/models/acme/pub/%2523/../../priv/m",
		"/zoo/v1/public/models/acme/pub/%252e%252e/%252e%252e/priv/m",
		"/zoo/v1/public/models/acme/pub/%25%32%65%25%32%65/priv/m",
		"/zoo/v1/public/models/acme/pub/..;/priv/m",
		"/zoo/v1/public/models/acme/pub;/../priv/m",
		"/zoo/v1/public/models/acme/pub/x;/../../priv/m",
		"/zoo/v1/public/models/acme/pub/x%3b/../../priv/m",
		"/zoo/v1/public/models/acme/pub/%00/../../priv/m",
		"/zoo/v1/public/models/acme/pub/\uff0e\uff0e/priv/m",
		"/zoo/v1/public/models/acme/pub/%ef%bc%8e%ef%bc%8e/priv/m",
		"/zoo/v1/public/models/acme/pub/\xc0\xae\xc0\xae/priv/m",
		"/zoo/v1/public/models/acme/pub/%c0%ae%c0%ae/priv/m",
		"/zoo/v1/public/models/acme/pub/\xe0\x80\xae\xe0\x80\xae/priv/m",
		"/zoo/v1/public/models/acme/pub/..%20/priv/m",
		"/zoo/v1/public/models/acme/pub/.../priv/m",
		"/zoo/v1/public/models/acme/pub/x\\..\\..\\priv\\m",
		"/zoo/v1/public/models/acme/pub/x%5c..%5c..%5cpriv%5cm",
		"/zoo/v1/public/models/acme/pub/x?/../../priv/m#",
		"/zoo/v1/public/models/acme/pub/%3f/../../priv/m",
		"/zoo/v1/public/models/acme/pub/ /../priv/m",
		"/zoo/v1/public/models/acme/pub/..\t/priv/m",
		"/zoo/v1/public/models/acme/pub/%2e%2e%3b/priv/m",
		"/zoo/v1/public/models/acme/pub/.%2e;/priv/m",
		"/zoo/v1/public/models/acme/pub/..%00/priv/m",
		"/zoo/v1/public/models/acme/pub/%2e%2e%2fpriv/m",
		"/zoo/v1/public/models/acme/pub/..%2f..%2facme%2fpriv%2fm",
		"/zoo/v1/public/models/acme/pub/%c0%ae%c0%ae%c0%afpriv%c0%afm",
		"/zoo/v1/public/models/acme/pub/..%c0%afpriv/m",
		"/zoo/v1/public/models/acme/pub/..%u002fpriv/m",
		"/zoo/v1/public/models/acme/pub%00/../priv/m",
		"/zoo/v1/public/models/acme/pub/%2E%2E%5C%2E%2E%5Cpriv%5Cm",
		"/zoo/v1/public/models/acme/pub/..%5c/priv/m",
		"/zoo/v1/public/models/acme/pub/..%255c..%255cpriv%255cm",
		"/zoo/v1/public/models/acme/pub/..\u2215priv\u2215m",
		"/zoo/v1/public/models/acme/pub/..%e2%88%95priv%e2%88%95m",
		"http://127.0.0.1/zoo/v1/public/models/acme/pub#/../../acme/priv/m",
		"//zoo/v1/public/models/acme/pub/../priv/m",
		"/zoo/v1/public/models/acme/pub/m?x=1#/../../../priv/m",
		"/zoo/v1/public/models/acme/pub/%2e%2e%2f%2e%2e%2fpriv%2fm",
		"/zoo/v1/public/models/acme/PUB/../priv/m",
		"/zoo/v1/public/models/acme/pub/..%ff/priv/m",
		"/zoo/v1/public/models/acme/pub/%e0%80%ae%e0%80%ae/priv/m",
		"/zoo/v1/public/models/acme/%70riv/m",
		"/zoo/v1/public/models/%61cme/pub/m",
	}
}

// Plain returns request targets the hub SDK sends: the path check lets
// every one through to the access decision. The downloads are of acme/pub.
func Plain() []string {
	return []string{
		"/zoo/v1/public/models/acme/pub/model.bin",
		"/zoo/v1/public/models/acme/pub/org/my-model_v2.1~rc/resolve/main/model-00001-of-00002.safetensors?download=true",
		"/zoo/v1/public/models/acme/pub/my%20model%20%281%29.bin",
		"/zoo/v1/public/models/acme/pub/a+b=c,d!e$f&g'h(i)j*k:l@m",
		"/zoo/v1/public/models/acme/pub/",
		"/zoo/v1/inference/acme/priv/v1/chat/completions?stream=true&x=a;b",
	}
}
