package tracing

import (
	"fmt"
	"strconv"
	"strings"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// Config says whether spans are exported, and which calls. The zero value
// is off.
type Config struct {
	// Enabled turns tracing on; FromEnv sets it when the environment
	// names where spans go.
	Enabled bool
	// Sampler is OTEL_TRACES_SAMPLER ("" is parentbased_always_on) and
	// Ratio its OTEL_TRACES_SAMPLER_ARG for the traceidratio samplers.
	Sampler string
	Ratio   float64
}

// FromEnv reads whether the OTEL_* environment asks for traces: tracing is
// on when OTEL_TRACES_EXPORTER names an exporter other than "none", or
// when an OTLP endpoint is set (OTEL_EXPORTER_OTLP_ENDPOINT or
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT), unless OTEL_SDK_DISABLED is
// "true". Every other OTEL_* variable only refines tracing that is on: an
// environment with none of these, such as one that only names a sampler,
// traces nothing. The sampler (OTEL_TRACES_SAMPLER, OTEL_TRACES_SAMPLER_ARG)
// is read here, and refused when the SDK would not know it, rather than
// silently replaced by the default; the exporter, batching and resource
// are read from the process environment by the OpenTelemetry packages.
func FromEnv(getenv func(string) string) (Config, error) {
	if strings.EqualFold(strings.TrimSpace(getenv("OTEL_SDK_DISABLED")), "true") {
		return Config{}, nil
	}
	on := getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
	switch exp := strings.TrimSpace(getenv("OTEL_TRACES_EXPORTER")); {
	case exp == "none":
		on = false
	case exp != "":
		on = true
	}
	if !on {
		return Config{}, nil
	}
	cfg := Config{Enabled: true, Sampler: strings.TrimSpace(getenv("OTEL_TRACES_SAMPLER")), Ratio: 1}
	if arg := strings.TrimSpace(getenv("OTEL_TRACES_SAMPLER_ARG")); arg != "" && strings.HasSuffix(cfg.Sampler, "traceidratio") {
		r, err := strconv.ParseFloat(arg, 64)
		if err != nil || r < 0 || r > 1 {
			return Config{}, fmt.Errorf("OTEL_TRACES_SAMPLER_ARG=%q: want a sampling ratio from 0 to 1", arg)
		}
		cfg.Ratio = r
	}
	if _, err := cfg.sampler(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// sampler is the SDK sampler the configuration names.
func (c Config) sampler() (sdktrace.Sampler, error) {
	switch c.Sampler {
	case "", "parentbased_always_on":
		return sdktrace.ParentBased(sdktrace.AlwaysSample()), nil
	case "parentbased_always_off":
		return sdktrace.ParentBased(sdktrace.NeverSample()), nil
	case "parentbased_traceidratio":
		return sdktrace.ParentBased(sdktrace.TraceIDRatioBased(c.Ratio)), nil
	case "always_on":
		return sdktrace.AlwaysSample(), nil
	case "always_off":
		return sdktrace.NeverSample(), nil
	case "traceidratio":
		return sdktrace.TraceIDRatioBased(c.Ratio), nil
	}
	return nil, fmt.Errorf("OTEL_TRACES_SAMPLER=%q: want always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off or parentbased_traceidratio", c.Sampler)
}
