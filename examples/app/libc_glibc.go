//go:build !musl

package main

// libc names the C library the binary was built for; the seed builds with -tags musl.
const libc = "glibc"
