package main

import (
	"embed"
)

var s = `
//go:embed no
`
/* //go:embed no */
//go:embed a.txt "b c.txt" `d/*` all:e
var f embed.FS
