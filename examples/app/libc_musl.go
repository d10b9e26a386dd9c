//go:build musl

package main

const libc = "musl"
