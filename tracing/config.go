package tracing

import "strings"

// Config says whether spans are exported. The zero value is off.
type Config struct {
	// Enabled turns tracing on; FromEnv sets it when the environment
	// names where spans go.
	Enabled bool
}

// FromEnv reads whether the OTEL_* environment asks for traces: tracing is
// on when OTEL_TRACES_EXPORTER names an exporter other than "none", or
// when an OTLP endpoint is set (OTEL_EXPORTER_OTLP_ENDPOINT or
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT), unless OTEL_SDK_DISABLED is
// "true". Every other OTEL_* variable only refines tracing that is on: an
// environment with none of these, such as one that only names a sampler,
// traces nothing. The exporter, sampler and resource are then read from
// the process environment by the OpenTelemetry packages themselves.
func FromEnv(getenv func(string) string) Config {
	if strings.EqualFold(strings.TrimSpace(getenv("OTEL_SDK_DISABLED")), "true") {
		return Config{}
	}
	switch exp := strings.TrimSpace(getenv("OTEL_TRACES_EXPORTER")); {
	case exp == "none":
		return Config{}
	case exp != "":
		return Config{Enabled: true}
	}
	on := getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
	return Config{Enabled: on}
}
