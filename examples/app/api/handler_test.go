package api

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"example.com/goaccel/orders/internal/store"
)

func TestCreateThenGet(t *testing.T) {
	now := time.Date(2025, 9, 19, 16, 41, 52, 0, time.UTC)
	h := NewHandler(store.New(), func() time.Time { return now })
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/orders", strings.NewReader(`{"item":"tea","quantity":2,"cents":1250}`)))
	if rec.Code != http.StatusCreated {
		t.Fatalf("create: %d %s", rec.Code, rec.Body)
	}
	rec2 := httptest.NewRecorder()
	h.ServeHTTP(rec2, httptest.NewRequest("GET", rec.Header().Get("Location"), nil))
	if rec2.Code != http.StatusOK || !strings.Contains(rec2.Body.String(), `"total":"$25.00"`) {
		t.Fatalf("get: %d %s", rec2.Code, rec2.Body)
	}
}

func TestBadID(t *testing.T) {
	h := NewHandler(store.New(), time.Now)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/orders/not-a-uuid", nil))
	if rec.Code != http.StatusBadRequest {
		t.Fatalf("got %d", rec.Code)
	}
}
