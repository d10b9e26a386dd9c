package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
)

// runSelfTest creates an order and reads it back through the handler, without a network.
func runSelfTest(h http.Handler) int {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/orders", strings.NewReader(`{"item":"tea","quantity":3,"cents":450}`)))
	if rec.Code != http.StatusCreated {
		fmt.Println("create:", rec.Code, rec.Body.String())
		return 1
	}
	loc := rec.Header().Get("Location")
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", loc, nil))
	body, _ := io.ReadAll(rec.Body)
	fmt.Printf("self-test: %d %s", rec.Code, body)
	if rec.Code != http.StatusOK {
		return 1
	}
	return 0
}
