// Package static holds files embedded into the binary.
package static

import _ "embed"

//go:embed banner.txt
var banner string

// Banner is printed when the server starts.
func Banner() string { return banner }
