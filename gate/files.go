// Package gate holds the regression gate's versioned configuration files
// and embeds them, so that a bench binary carries its defaults while the
// files stay reviewable where the README points (gate/thresholds.yaml,
// gate/http.yaml). The gate itself is internal/gate; the command's wiring
// is cmd/bench.
package gate

import _ "embed"

//go:embed thresholds.yaml
var thresholdsYAML string

//go:embed http.yaml
var httpProbeYAML string

// ThresholdsYAML returns the built-in semantic thresholds file.
func ThresholdsYAML() string { return thresholdsYAML }

// HTTPProbeYAML returns the built-in HTTP probe scenario of the
// version-to-version gate.
func HTTPProbeYAML() string { return httpProbeYAML }
