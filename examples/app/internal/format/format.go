// Package format renders money and ages for humans.
package format

import (
	"fmt"
	"time"

	"github.com/dustin/go-humanize"
)

// Money formats cents as dollars with thousands separators: 123456 -> "$1,234.56".
func Money(cents int64) string {
	sign := ""
	if cents < 0 {
		sign, cents = "-", -cents
	}
	return fmt.Sprintf("%s$%s.%02d", sign, humanize.Comma(cents/100), cents%100)
}

// Age says how long ago t was, relative to now ("3 minutes ago").
func Age(t, now time.Time) string { return humanize.RelTime(t, now, "ago", "from now") }
