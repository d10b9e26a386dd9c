// Command orders is the example service that libgoaccel builds: a small HTTP API in the shape of
// the seed's Dockerfile (main.go, api/, internal/), with third-party modules and an embedded file.
package main

import (
	"fmt"
	"log"
	"net/http"
	"os"
	"time"

	flag "github.com/spf13/pflag"

	"example.com/goaccel/orders/api"
	"example.com/goaccel/orders/internal/static"
	"example.com/goaccel/orders/internal/store"
)

// version is set at link time: -ldflags "-X main.version=1.2.3".
var version = "dev"

// buildNote is set by an optional generated file (zz_generated.go, git-ignored) when present.
var buildNote string

func main() {
	addr := flag.String("addr", ":8080", "listen address")
	showVersion := flag.Bool("version", false, "print the version and exit")
	selfTest := flag.Bool("self-test", false, "serve one request in-process and exit")
	flag.Parse()

	if *showVersion {
		fmt.Printf("orders %s (%s)", version, libc)
		if buildNote != "" {
			fmt.Printf(" note=%s", buildNote)
		}
		fmt.Println()
		return
	}

	s := store.New()
	h := api.NewHandler(s, time.Now)
	if *selfTest {
		os.Exit(runSelfTest(h))
	}
	fmt.Print(static.Banner())
	log.Printf("orders %s listening on %s", version, *addr)
	log.Fatal(http.ListenAndServe(*addr, h))
}
